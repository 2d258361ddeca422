// A vscode-jsonrpc client (the library VS Code's language clients are built on) driving a
// JSON-RPC server over its stdin and stdout with LSP's Content-Length framing.
//
// Usage: node lsp_client.js SERVER [ARGS...]
//
// Spawns SERVER ARGS, then: calls by name and by position, an error with its code, message
// and data, 200 concurrent requests, notifications (which must get no answer), a request
// cancelled with a cancellation token (which must be answered -32800), and the end of
// stdin (after which the server must exit 0). Prints one JSON line of what it saw; exits 1 on
// the first thing that is not as it must be.
'use strict';

const cp = require('child_process');
const rpc = require('vscode-jsonrpc/node');

function check(ok, what) {
    if (!ok) {
        console.error(`not as it must be: ${what}`);
        process.exit(1);
    }
}

async function main() {
    const [server, ...args] = process.argv.slice(2);
    const child = cp.spawn(server, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));

    // Every message the server sends, counted on the way in.
    const reader = new rpc.StreamMessageReader(child.stdout);
    const received = [];
    const listen = reader.listen.bind(reader);
    reader.listen = (callback) => listen((message) => {
        received.push(message);
        callback(message);
    });
    const connection = rpc.createMessageConnection(reader, new rpc.StreamMessageWriter(child.stdin));
    connection.listen();
    let requests = 0;
    const request = (...call) => {
        requests += 1;
        return connection.sendRequest(...call);
    };

    const seen = {};
    seen.add = await request('add', { a: 2, b: 3 });
    seen.subtract = await request('subtract', 10, 4);
    seen.divide = await request('divide', 6, 3);
    try {
        await request('divide', { a: 1, b: 0 });
        check(false, 'divide by zero answered with a result');
    } catch (err) {
        check(err instanceof rpc.ResponseError, `a ResponseError, not ${err}`);
        seen.error = { code: err.code, message: err.message, data: err.data };
    }
    try {
        await request('sqrt', 9);
        check(false, 'an unknown method answered with a result');
    } catch (err) {
        seen.unknown = err.code;
    }

    // Notifications run and are never answered.
    for (let i = 0; i < 10; i++) {
        await connection.sendNotification('add', i, i);
    }

    // 200 requests at once, a few of them waiting: each gets its own answer.
    const calls = [];
    for (let i = 0; i < 200; i++) {
        calls.push(i % 20 === 0 ? request('wait', { ms: 50 }) : request('multiply', i, 2));
    }
    const answers = await Promise.all(calls);
    seen.concurrent = answers.every((answer, i) => answer === (i % 20 === 0 ? 50 : i * 2));
    seen.concurrentCount = answers.length;

    // A request cancelled with a token: vscode-jsonrpc sends `$/cancelRequest`, and the server
    // answers the call with -32800 (RequestCancelled) long before it would have ended.
    const source = new rpc.CancellationTokenSource();
    const started = Date.now();
    const cancelled = request('wait', { ms: 30000 }, source.token);
    setTimeout(() => source.cancel(), 100);
    try {
        await cancelled;
        check(false, 'a cancelled wait answered with a result');
    } catch (err) {
        check(err instanceof rpc.ResponseError, `a ResponseError, not ${err}`);
        seen.cancelled = { code: err.code, message: err.message, fast: Date.now() - started < 10000 };
    }

    check(received.length === requests, `${received.length} messages for ${requests} requests`);
    check(received.every((m) => m.id !== undefined && m.id !== null), 'a message without an id');
    seen.messages = received.length;

    // The end of stdin: the server answers what is in flight and exits 0.
    connection.end();
    child.stdin.end();
    seen.exit = await exited;
    connection.dispose();
    console.log(JSON.stringify(seen));
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
