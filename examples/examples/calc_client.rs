//! A client of the calculator, in Rust, through the typed stubs `#[rpc_method]` generates
//! beside the calculator's own functions (rpc-core's `client` feature): the method names, the
//! params and the result types are written once, in `rpc_examples::calculator`.
//!
//! `cargo run --example calc-client -- add 2 3` prints `5`.

use std::process::ExitCode;

use rpc_examples::calculator::{add, countdown, divide, multiply, results, subtract, Millis};
use rpc_hyper::client::{Client, Error};

const USAGE: &str = "\
A client of the calculator: calls one method and prints its result, or its error object
(and exits 1).

Usage: calc-client [--url URL] add|subtract|multiply|divide A B
       calc-client [--url URL] watch
       calc-client [--url URL] countdown FROM INTERVAL_MS

  watch      prints every later calculation of any client, as the calculator pushes it
  countdown  prints FROM, FROM-1, ..., 0, one every INTERVAL_MS, as the calculator pushes them

Options:
  --url URL   the calculator's JSON-RPC endpoint (default http://127.0.0.1:5000/rpc; watch and
              countdown use the same address over a WebSocket, ws:// or for https:// wss://)
  --ca FILE   trust the CA certificates in FILE (PEM) for https:// and wss://, beside the
              public roots: a calculator serving a certificate of your own CA
  -h, --help  print this help
";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut url = "http://127.0.0.1:5000/rpc".to_owned();
    let mut ca = None;
    let mut words = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--url" => match args.next() {
                Some(value) => url = value,
                None => return usage_error("--url needs a value"),
            },
            "--ca" => match args
                .next()
                .map(|path| std::fs::read(&path).map_err(|e| (path, e)))
            {
                Some(Ok(pem)) => ca = Some(pem),
                Some(Err((path, err))) => return usage_error(&format!("{path}: {err}")),
                None => return usage_error("--ca needs a file, such as ca.pem"),
            },
            _ => words.push(arg),
        }
    }
    match words.first().map(String::as_str) {
        Some("watch") if words.len() == 1 => return watch(&url, ca.as_deref()).await,
        Some("countdown") => {
            let (Some(Ok(from)), Some(Ok(interval)), 3) = (
                words.get(1).map(|w| w.parse::<u64>()),
                words.get(2).map(|w| w.parse::<u64>()),
                words.len(),
            ) else {
                return usage_error(
                    "countdown takes FROM and INTERVAL_MS, such as `countdown 5 100`",
                );
            };
            let Some(interval) = Millis::new(interval) else {
                return usage_error("INTERVAL_MS is at most 60000");
            };
            return count_down(&url, ca.as_deref(), from, interval).await;
        }
        _ => {}
    }
    let client = match client(&url, ca.as_deref()) {
        Ok(client) => client,
        Err(err) => return usage_error(&err.to_string()),
    };
    let [method, a, b] = &words[..] else {
        return usage_error("expected a method and two integers, such as `add 2 3`");
    };
    let (Ok(a), Ok(b)) = (a.parse::<i64>(), b.parse::<i64>()) else {
        return usage_error("the operands are integers, such as `add 2 3`");
    };
    // Each stub is typed: `add::call(a, b)` answers an `i64`, `divide::call(a, b)` an `f64`.
    let printed = match method.as_str() {
        "add" => show(client.call(add::call(a, b)).await),
        "subtract" => show(client.call(subtract::call(a, b)).await),
        "multiply" => show(client.call(multiply::call(a, b)).await),
        "divide" => show(client.call(divide::call(a, b)).await),
        other => {
            return usage_error(&format!(
                "no method `{other}` here: add, subtract, multiply or divide"
            ))
        }
    };
    match printed {
        Ok(result) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            match err.rpc() {
                // The server's error object, as it sent it.
                Some(error) => eprintln!("{}", serde_json::to_string(error).unwrap_or_default()),
                None => eprintln!("calc-client: {err}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// A client of `url`, trusting the CA certificates of `ca` (PEM) too.
fn client(url: &str, ca: Option<&[u8]>) -> Result<Client, Error> {
    let mut builder = Client::builder(url);
    if let Some(ca) = ca {
        builder = builder.add_root_certificates_pem(ca);
    }
    builder.build()
}

/// A WebSocket client of the same address: `ws://` for `http://`, `wss://` for `https://`.
fn ws_client(url: &str, ca: Option<&[u8]>) -> Result<Client, Error> {
    let url = match url.split_once("://") {
        Some(("http", rest)) => format!("ws://{rest}"),
        Some(("https", rest)) => format!("wss://{rest}"),
        _ => url.to_owned(),
    };
    client(&url, ca)
}

/// Prints each calculation the calculator pushes, until interrupted or disconnected.
async fn watch(url: &str, ca: Option<&[u8]>) -> ExitCode {
    let outcome = async {
        let client = ws_client(url, ca)?;
        // Typed by the calculator's own `results` subscription: its items are `Computed`.
        let mut results = client.subscribe(results::subscribe()).await?;
        eprintln!("watching {url} (Ctrl-C to stop)");
        while let Some(computed) = results.next().await {
            println!("{}", serde_json::to_string(&computed?).unwrap_or_default());
        }
        Ok::<_, Error>(())
    };
    finish(outcome.await)
}

/// Prints a countdown the calculator pushes, to its end.
async fn count_down(url: &str, ca: Option<&[u8]>, from: u64, interval: Millis) -> ExitCode {
    let outcome = async {
        let client = ws_client(url, ca)?;
        let mut numbers = client
            .subscribe(countdown::subscribe(from, interval))
            .await?;
        while let Some(n) = numbers.next().await {
            let n = n?;
            println!("{n}");
            if n == 0 {
                break; // the calculator ends it after 0; nothing on the wire says so
            }
        }
        Ok::<_, Error>(())
    };
    finish(outcome.await)
}

fn finish(outcome: Result<(), Error>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match err.rpc() {
                Some(error) => eprintln!("{}", serde_json::to_string(error).unwrap_or_default()),
                None => eprintln!("calc-client: {err}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// A result as JSON: `5`, `2.0`.
fn show<T: serde::Serialize>(outcome: Result<T, Error>) -> Result<String, Error> {
    outcome.map(|value| serde_json::to_string(&value).unwrap_or_default())
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("calc-client: {message}\n\n{USAGE}");
    ExitCode::from(2)
}
