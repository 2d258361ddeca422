// A vscode-jsonrpc server (the library VS Code's language servers are built on) on its stdin
// and stdout with LSP's Content-Length framing, that calls its client back.
//
// Usage: node lsp_server.js
//
// Requests it answers:
// - `ask` [n]: asks the client `double` [n], and answers what the client said;
// - `tell`: sends the client the notification `told` {what: "news"}, and answers true;
// - `unknown`: asks the client `nope`, and answers the error code the client gave;
// - `hold`: answers false once the client cancels it ($/cancelRequest), never otherwise;
// - `wasCancelled`: whether a `hold` was cancelled.
// It exits 0 when its stdin ends.
'use strict';

const rpc = require('vscode-jsonrpc/node');

const connection = rpc.createMessageConnection(
    new rpc.StreamMessageReader(process.stdin),
    new rpc.StreamMessageWriter(process.stdout),
);
let cancelled = false;

connection.onRequest('ask', async (n) => connection.sendRequest('double', n));
connection.onRequest('tell', async () => {
    await connection.sendNotification('told', { what: 'news' });
    return true;
});
connection.onRequest('unknown', async () => {
    try {
        await connection.sendRequest('nope');
        return 'answered';
    } catch (err) {
        return err.code;
    }
});
connection.onRequest('hold', (token) => new Promise((resolve) => {
    token.onCancellationRequested(() => {
        cancelled = true;
        resolve(false);
    });
}));
connection.onRequest('wasCancelled', () => cancelled);
connection.onClose(() => process.exit(0));
process.stdin.on('end', () => process.exit(0));
connection.listen();
