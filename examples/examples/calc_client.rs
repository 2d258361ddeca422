//! A client of the calculator, in Rust, through the typed stubs `#[rpc_method]` generates
//! beside the calculator's own functions (rpc-core's `client` feature): the method names, the
//! params and the result types are written once, in `rpc_examples::calculator`.
//!
//! `cargo run --example calc-client -- add 2 3` prints `5`.

use std::process::ExitCode;

use rpc_examples::calculator::{add, divide, multiply, subtract};
use rpc_hyper::client::{Client, Error};

const USAGE: &str = "\
A client of the calculator: calls one method and prints its result, or its error object
(and exits 1).

Usage: calc-client [--url URL] add|subtract|multiply|divide A B

Options:
  --url URL   the calculator's JSON-RPC endpoint (default http://127.0.0.1:5000/rpc)
  -h, --help  print this help
";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut url = "http://127.0.0.1:5000/rpc".to_owned();
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
            _ => words.push(arg),
        }
    }
    let client = match Client::builder(&url).build() {
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

/// A result as JSON: `5`, `2.0`.
fn show<T: serde::Serialize>(outcome: Result<T, Error>) -> Result<String, Error> {
    outcome.map(|value| serde_json::to_string(&value).unwrap_or_default())
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("calc-client: {message}\n\n{USAGE}");
    ExitCode::from(2)
}
