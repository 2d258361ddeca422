// vscode-jsonrpc's own server doing `add` over stdin and stdout with LSP framing, written as
// its docs show: the peer of our stdio server in scripts/bench-stream.sh. vscode-jsonrpc is
// the one tests/node installs (npm ci --prefix tests/node).
'use strict';

const path = require('path');
const { createRequire } = require('module');
const rpc = createRequire(path.join(__dirname, '../../tests/node/package.json'))('vscode-jsonrpc/node');

const connection = rpc.createMessageConnection(
    new rpc.StreamMessageReader(process.stdin),
    new rpc.StreamMessageWriter(process.stdout),
);
connection.onRequest('add', (a, b) => a + b);
connection.onClose(() => process.exit(0));
connection.listen();
