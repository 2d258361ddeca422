//! The floor: a hand-written serial loop over stdin and stdout that answers `initialize`,
//! `tools/call` of `add` and nothing else, one line at a time, with serde_json.

use std::io::{BufRead, Write};

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    method: &'a str,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Call {
    arguments: Add,
}

#[derive(Deserialize)]
struct Add {
    a: i64,
    b: i64,
}

fn main() -> std::io::Result<()> {
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut line = String::new();
    let mut input = std::io::BufReader::new(stdin);
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if let Some(answer) = answer(&line) {
            writeln!(stdout, "{answer}")?;
        }
        // Flushed when no more input is waiting: one write for what came together.
        if input.buffer().is_empty() {
            stdout.flush()?;
        }
    }
}

/// The answer to one line, if it is a request.
fn answer(line: &str) -> Option<String> {
    let request = serde_json::from_str::<Request<'_>>(line).ok()?;
    let id = request.id?;
    let result = match request.method {
            "initialize" => r#"{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"serial","version":"1"}}"#.to_owned(),
            "tools/call" => {
                let call: Call = serde_json::from_str(request.params.map_or("{}", RawValue::get)).ok()?;
                let sum = call.arguments.a.wrapping_add(call.arguments.b);
                format!(r#"{{"content":[{{"type":"text","text":"{sum}"}}],"isError":false}}"#)
            }
            _ => "{}".to_owned(),
        };
    Some(format!(
        r#"{{"jsonrpc":"2.0","id":{},"result":{result}}}"#,
        id.get()
    ))
}
