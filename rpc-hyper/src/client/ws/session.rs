//! One connection of the WebSocket client, on the connection engine the servers run: the
//! client's calls go out through the connection's outbox, their answers and subscription
//! items are taken by the client's routes as they are read, and what else the server sends
//! (its own requests and notifications) is the router's, with the engine's bounds, order,
//! cancellation and peer handle.

use std::future::poll_fn;
use std::pin::pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::Duration;

use rpc_core::{BoxFuture, ConnectionId, Context, Peer, Router};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;

use super::route::route;
use super::{lock, Command, Shared, IO_TIMEOUT};
use crate::client::io::Io;
use crate::control::{Connections, Control, CLOSE, DRAIN};
use crate::engine::{self, Ending, Incoming, Out, Transport};
use crate::ws::Frames;

/// The client's WebSocket, over TCP or (`wss://`) TLS.
pub(super) type Socket = WebSocketStream<Io>;

/// A router, whatever its state: what answers the server's requests and notifications on the
/// client's side.
pub(crate) trait Serving: Send + Sync {
    /// Runs the engine on one connection, the router answering what the server asks.
    fn serve<'a>(
        &'a self,
        transport: &'a mut Answers,
        config: &'a engine::Config,
        control: Arc<Control>,
        peer: Peer,
    ) -> BoxFuture<'a, Ending>;
}

impl<S: Send + Sync + 'static> Serving for Router<S> {
    fn serve<'a>(
        &'a self,
        transport: &'a mut Answers,
        config: &'a engine::Config,
        control: Arc<Control>,
        peer: Peer,
    ) -> BoxFuture<'a, Ending> {
        let cx = Context::new().with_connection(ConnectionId::next());
        Box::pin(engine::run(
            transport,
            self,
            cx,
            config,
            Some(control),
            Some(peer),
        ))
    }
}

impl std::fmt::Debug for dyn Serving + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Router")
    }
}

/// The client's WebSocket as the engine's transport: what answers the client's own calls (or
/// is an item of its subscriptions) is taken by its routes as it is read; the engine sees
/// the rest.
pub(crate) struct Answers {
    frames: Frames<Io>,
    shared: Arc<Shared>,
}

impl Transport for Answers {
    // The server's close frame ends the connection.
    const ANSWERS_AFTER_EOF: bool = false;

    fn poll_next(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Incoming, Ending>>> {
        loop {
            match ready!(self.frames.poll_next(cx)) {
                Some(Ok(Incoming::Message(frame))) => {
                    if let Some(theirs) = route(&self.shared, frame) {
                        return Poll::Ready(Some(Ok(Incoming::Message(theirs))));
                    }
                }
                other => return Poll::Ready(other),
            }
        }
    }

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        self.frames.poll_ready(cx)
    }

    fn start_send(&mut self, out: Out<'_>) -> std::io::Result<()> {
        self.frames.start_send(out)
    }

    fn poll_flush(&mut self, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        self.frames.poll_flush(cx)
    }

    fn start_close(&mut self, ending: Ending) -> std::io::Result<()> {
        self.frames.start_close(ending)
    }

    fn poll_close(&mut self, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        self.frames.poll_close(cx)
    }

    fn shrink(&mut self) {
        self.frames.shrink();
    }

    // The client's calls await answers, and its subscriptions items, that only the server
    // can give: the connection is read for them whatever the server's own requests keep busy.
    fn awaits_answers(&self) -> bool {
        !lock(&self.shared.pending).is_empty() || !lock(&self.shared.subscriptions).is_empty()
    }
}

/// Runs one connection: what it was lost to, or `None` when every handle to the client is
/// gone (the connection is then closed, once the server's requests in flight are answered).
/// A command taken but not sent because the connection was closing is left in `carried`, for
/// the next connection.
pub(super) async fn session(
    ws: Socket,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    carried: &mut Option<Command>,
    shared: &Arc<Shared>,
    config: &engine::Config,
) -> Option<String> {
    let connection = *shared.connected.borrow();
    let peer = config.client_peer(Arc::clone(&shared.ids));
    let outbox = peer.outbox().clone();
    let mut transport = Answers {
        frames: Frames::new(ws),
        shared: Arc::clone(shared),
    };
    // Dropping the client drains the connection as a server's shutdown would.
    let connections = Arc::new(Connections::new(Duration::MAX, Duration::MAX, usize::MAX));
    let control = connections.track();
    let router = Arc::clone(&shared.router);
    let ending = {
        let mut running = pin!(router.serve(&mut transport, config, control, peer));
        'forward: loop {
            let command = match carried.take() {
                Some(command) => Some(command),
                None => tokio::select! {
                    ending = &mut running => break 'forward Some(ending),
                    command = commands.recv() => command,
                },
            };
            let Some(command) = command else {
                connections.signal_all(DRAIN);
                if tokio::time::timeout(IO_TIMEOUT, &mut running)
                    .await
                    .is_err()
                {
                    connections.signal_all(CLOSE);
                    running.await;
                }
                break None;
            };
            match &command {
                // A call whose caller has gone (failed with a lost connection, or past its
                // time) is not sent: it must not run after its caller was told.
                Command::Call(id, _) if !lock(&shared.pending).contains_key(id) => continue,
                // Another connection's subscription id may now name another one.
                Command::Unsubscribe { connection: on, .. } if *on != connection => continue,
                _ => {}
            }
            let mut command = command;
            let mut frame = Some(std::mem::take(command.frame_mut()));
            let sent = tokio::select! {
                ending = &mut running => Err(Some(ending)),
                sent = poll_fn(|task| outbox.poll_send(&mut frame, task)) => sent.map_err(|_| None),
            };
            if let Err(ending) = sent {
                // The connection is closing: the command goes on the next one.
                if let Some(frame) = frame {
                    *command.frame_mut() = frame;
                }
                *carried = Some(command);
                break Some(match ending {
                    Some(ending) => ending,
                    None => running.await,
                });
            }
        }
    };
    let ending = ending?;
    Some(transport.frames.closed_with().map_or_else(
        || match ending {
            Ending::TooSlow(why) | Ending::Violation(why) => why.to_owned(),
            // The answer it belongs to cannot be told (its id is in the part not read): every
            // call of the connection is told why it ended, and the client connects again.
            Ending::TooLarge => format!(
                "a message over max_response_size ({} bytes) ended the connection",
                config.max_message_size
            ),
            Ending::NotUtf8 => "a text frame that is not UTF-8".to_owned(),
            _ => "the connection broke".to_owned(),
        },
        str::to_owned,
    ))
}
