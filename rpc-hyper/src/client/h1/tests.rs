//! The HTTP/1.1 answer reader against damaged answers, in pieces, over a real socket.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::Conn;

const BODY: &str = r#"{"jsonrpc":"2.0","result":[1,2,3],"id":7}"#;

/// Answers a server may send, each well-formed.
fn seeds() -> Vec<Vec<u8>> {
    let chunked: String = BODY
        .as_bytes()
        .chunks(9)
        .map(|c| {
            format!(
                "{:x};ext=1\r\n{}\r\n",
                c.len(),
                std::str::from_utf8(c).unwrap()
            )
        })
        .collect();
    [
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        ),
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}0\r\nx: y\r\n\r\n"),
        format!("HTTP/1.0 200 OK\r\n\r\n{BODY}"),
        format!(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        ),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

/// `seed`, damaged in one of several ways.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 => {
                let bit = 1 << rng.below(8);
                if let Some(byte) = bytes.get_mut(at) {
                    *byte ^= bit;
                }
            }
            2 => bytes.insert(at, rng.next() as u8),
            3 => {
                let digits = b"0123456789abcdefABCDEF-+ ;\r\n";
                bytes.insert(at, digits[rng.below(digits.len())]);
            }
            4 => {
                let end = (at + rng.below(16)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => {
                if at < bytes.len() {
                    bytes.remove(at);
                }
            }
        }
    }
    bytes
}

/// Whatever a server sends, in whatever pieces, reading it ends in an answer or an error
/// within the time it takes, never a panic; the well-formed seeds give the body.
#[tokio::test]
async fn any_bytes_in_any_pieces_end_in_an_answer_or_an_error() {
    let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
    let addr = listener.local_addr().unwrap();
    let seeds = seeds();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = [0usize; 2]; // errors, answers
    for case in 0..400 {
        let seed = &seeds[case % seeds.len()];
        let intact = case < seeds.len();
        let bytes = if intact {
            seed.clone()
        } else {
            mutate(seed, &mut rng)
        };
        let pieces: Vec<usize> = (0..4).map(|_| 1 + rng.below(bytes.len())).collect();
        let writer = tokio::spawn({
            let (bytes, listener) = (bytes.clone(), std::sync::Arc::clone(&listener));
            async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut rest = &bytes[..];
                for piece in pieces {
                    let (now, later) = rest.split_at(piece.min(rest.len()));
                    if stream.write_all(now).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_micros(200)).await;
                    rest = later;
                }
                let _ = stream.write_all(rest).await;
                let _ = stream.shutdown().await;
            }
        });
        let mut conn = Conn::new(super::Io::Plain(TcpStream::connect(addr).await.unwrap()));
        let answer = tokio::time::timeout(Duration::from_secs(5), conn.receive(1 << 16))
            .await
            .unwrap_or_else(|_| panic!("case {case} did not end: {bytes:?}"));
        if intact {
            let answer = answer.as_ref().unwrap();
            assert_eq!(answer.status, http::StatusCode::OK);
            assert_eq!(&answer.body[..], BODY.as_bytes(), "case {case}");
        }
        outcomes[usize::from(answer.is_ok())] += 1;
        writer.await.unwrap();
    }
    // The damage reaches both ways out: some answers still read, most do not.
    assert!(outcomes[0] > 50 && outcomes[1] > 50, "{outcomes:?}");
}
