//! Allocations per received message, counted on the client thread only:
//! `pt_net` over plain TCP and TLS against a real server, and both our
//! frame decoder and tungstenite's reading the same bytes from memory.
//!
//! The counting allocator (`pt_tests::alloc`) counts per thread, so the
//! server's threads and other tests running in parallel do not interfere.

mod net_support;

use pt_tests::alloc::allocations;

#[global_allocator]
static COUNTING: pt_tests::alloc::Counting = pt_tests::alloc::Counting;
use futures_util::{SinkExt, StreamExt};
use net_support::*;
use pt_net::ws::{Decoded, Frame, MessageReader, Opcode, encode_frame};
use pt_net::{PollOutcome, WsClient, WsMessage};
use std::cell::Cell;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::Frame as TFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocket};
use tokio_tungstenite::tungstenite::{Bytes, Message};

const WARM_UP: usize = 1_000;
const MEASURED: usize = 10_000;

fn payload(seq: usize) -> String {
    format!(
        r#"{{"type":"orderbook_delta","sid":1,"seq":{seq},"msg":{{"market_ticker":"KXBTC-25","price":57,"delta":-120,"side":"yes"}}}}"#
    )
}

/// Every 10th message in 3 fragments, a ping before every 50th.
#[derive(Debug, Default)]
struct Schedule {
    frames: usize,
    pings: usize,
}

impl Schedule {
    fn of(range: std::ops::Range<usize>) -> Schedule {
        let mut s = Schedule::default();
        for seq in range {
            s.frames += if seq % 10 == 0 { 3 } else { 1 };
            s.pings += usize::from(seq % 50 == 0);
        }
        s
    }
}

/// Sends the warm-up messages, waits for the client's "go", then the measured ones.
fn streaming_server(identity: Option<&Identity>) -> Server {
    serve(identity, |stream| async move {
        let mut ws = accept(stream).await;
        for seq in 0..WARM_UP + MEASURED {
            if seq == WARM_UP {
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.is_text() {
                        break;
                    }
                }
            }
            let text = payload(seq);
            if seq % 50 == 0 {
                ws.send(Message::Ping(Bytes::from_static(b"hb")))
                    .await
                    .unwrap();
            }
            if seq % 10 == 0 {
                let (a, rest) = text.split_at(20);
                let (b, c) = rest.split_at(30);
                for (part, op, fin) in [
                    (a, OpCode::Data(Data::Text), false),
                    (b, OpCode::Data(Data::Continue), false),
                    (c, OpCode::Data(Data::Continue), true),
                ] {
                    let frame = TFrame::message(part.to_owned(), op, fin);
                    ws.send(Message::Frame(frame)).await.unwrap();
                }
            } else {
                ws.send(Message::text(text)).await.unwrap();
            }
        }
        while ws.next().await.is_some() {}
    })
}

/// Receives every message over a real connection; returns allocations
/// counted on this thread while the last `MEASURED` messages arrived.
fn receive(identity: Option<&Identity>) -> u64 {
    let server = streaming_server(identity);
    let mut conn = open(&config(&server, 1 << 16));
    let seen = Cell::new(conn.got.len());
    let bad = Cell::new(0usize);
    let mut on_msg = |m: WsMessage<'_>| {
        // No allocation here: check the shape in place.
        if !(matches!(m, WsMessage::Text(_)) && m.payload().starts_with(b"{\"type\"")) {
            bad.set(bad.get() + 1);
        }
        seen.set(seen.get() + 1);
    };
    let start = Instant::now();
    let mut poll_until = |client: &mut WsClient, n: usize| {
        while seen.get() < n {
            let outcome = client.poll(Some(Duration::from_millis(50)), &mut on_msg);
            assert!(
                matches!(outcome, Ok(PollOutcome::Messages(_))),
                "{outcome:?}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out at {}",
                seen.get()
            );
        }
    };
    poll_until(&mut conn.client, WARM_UP);
    assert_eq!(seen.get(), WARM_UP, "the server waits for the go");
    conn.client.send_text(b"go").unwrap();
    let before = allocations();
    poll_until(&mut conn.client, WARM_UP + MEASURED);
    let allocated = allocations() - before;
    assert_eq!(seen.get(), WARM_UP + MEASURED);
    assert_eq!(bad.get(), 0);
    allocated
}

#[test]
fn plain_connection_allocates_nothing_per_message() {
    let allocations = receive(None);
    let s = Schedule::of(WARM_UP..WARM_UP + MEASURED);
    println!(
        "plain ws: {MEASURED} messages ({} frames, {} pings answered): {allocations} allocations",
        s.frames, s.pings
    );
    assert_eq!(allocations, 0);
}

#[test]
fn tls_connection_allocates_nothing_per_message() {
    let identity = identity();
    let allocations = receive(Some(&identity));
    let s = Schedule::of(WARM_UP..WARM_UP + MEASURED);
    // The server flushes every frame and ping as its own TLS record; each is
    // decrypted in place, and our pongs are sealed into the reused output
    // buffer (`net::record`).
    println!(
        "TLS: {MEASURED} messages ({} frames, {} pings answered, about {} records in): \
         {allocations} allocations",
        s.frames,
        s.pings,
        s.frames + s.pings
    );
    assert_eq!(allocations, 0);
}

/// Unmasked server frames for `payload(seq)`, seq in `0..n`, on the
/// [`Schedule`] (fragments and pings).
fn server_bytes(n: usize) -> Vec<u8> {
    fn frame(out: &mut Vec<u8>, first: u8, payload: &[u8]) {
        out.push(first);
        match payload.len() {
            len @ 0..126 => out.push(len as u8),
            len => {
                out.push(126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(payload);
    }
    let mut out = Vec::new();
    for seq in 0..n {
        let text = payload(seq);
        let text = text.as_bytes();
        if seq % 50 == 0 {
            frame(&mut out, 0x89, b"hb");
        }
        if seq % 10 == 0 {
            frame(&mut out, 0x01, &text[..20]);
            frame(&mut out, 0x00, &text[20..50]);
            frame(&mut out, 0x80, &text[50..]);
        } else {
            frame(&mut out, 0x81, text);
        }
    }
    out
}

/// An in-memory socket: reads from `data`, discards writes.
struct Memory {
    data: Vec<u8>,
    pos: usize,
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (&self.data[self.pos..]).read(buf)?;
        self.pos += n;
        Ok(n)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// tungstenite's allocations while reading `MEASURED` messages after warm-up
/// (its automatic pong replies included).
fn tungstenite_allocations(bytes: &[u8]) -> (u64, usize) {
    let memory = Memory {
        data: bytes.to_vec(),
        pos: 0,
    };
    let mut ws = WebSocket::from_raw_socket(memory, Role::Client, None);
    let mut total = 0;
    let mut messages = 0;
    let mut before = 0;
    while messages < WARM_UP + MEASURED {
        if messages == WARM_UP {
            before = allocations();
        }
        match ws.read().unwrap() {
            Message::Text(t) => {
                total += t.len();
                messages += 1;
            }
            Message::Ping(_) => {}
            other => panic!("{other:?}"),
        }
    }
    (allocations() - before, total)
}

/// The same for our decoder, with pongs encoded into a reused buffer.
fn our_allocations(bytes: &[u8]) -> (u64, usize) {
    let mut reader = MessageReader::new(1 << 16);
    let mut pongs = Vec::with_capacity(256);
    let mut pos = 0;
    let mut total = 0;
    let mut messages = 0;
    let mut before = 0;
    while messages < WARM_UP + MEASURED {
        if messages == WARM_UP {
            before = allocations();
        }
        let Decoded::Frame { consumed, frame } = reader.decode(&bytes[pos..]).unwrap() else {
            panic!("truncated input");
        };
        pos += consumed;
        match frame {
            Frame::Message(m) => {
                total += m.payload().len();
                messages += 1;
            }
            Frame::Ping(p) => {
                pongs.clear();
                encode_frame(&mut pongs, Opcode::Pong, true, [1, 2, 3, 4], p);
            }
            Frame::Fragment => {}
            other => panic!("{other:?}"),
        }
    }
    (allocations() - before, total)
}

#[test]
fn decoder_vs_tungstenite_allocations_per_message() {
    let bytes = server_bytes(WARM_UP + MEASURED);
    let (theirs, their_total) = tungstenite_allocations(&bytes);
    let (ours, our_total) = our_allocations(&bytes);
    assert_eq!(their_total, our_total);
    let s = Schedule::of(WARM_UP..WARM_UP + MEASURED);
    println!(
        "{MEASURED} messages of ~{} bytes ({} frames, {} pings): tungstenite {theirs} \
         allocations ({:.3}/message), pt_net::ws {ours}",
        payload(0).len(),
        s.frames,
        s.pings,
        theirs as f64 / MEASURED as f64
    );
    assert_eq!(ours, 0);
}

/// REST requests and responses on one keep-alive TLS connection, pipelined
/// eight deep against hyper: nothing allocated per request after warm-up.
#[test]
fn rest_connection_allocates_nothing_per_request() {
    use mio::{Events, Poll, Token};
    use pt_net::{HttpConn, HttpTarget, Pumped};
    let id = identity();
    let (server, _) = http_server(Some(&id));
    let cfg = pt_net::tls::client_config_from_ca_file(server.ca_file.as_ref().unwrap()).unwrap();
    let target = HttpTarget::resolve("127.0.0.1", server.port, Some(&cfg)).unwrap();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut conn = HttpConn::connect(&target, poll.registry(), Token(1), 8, 1 << 16).unwrap();
    let body = br#"{"ticker":"KXBTC-25","side":"bid","count":"10.00","price":"0.5600"}"#;
    let headers: [(&str, &[u8]); 2] = [("KALSHI-ACCESS-KEY", b"key"), ("x-chunked", b"1")];
    let mut run = |n: u64, conn: &mut HttpConn| {
        let (mut sent, mut got, mut bytes) = (0u64, 0u64, 0usize);
        let deadline = Instant::now() + Duration::from_secs(20);
        while got < n {
            while sent < n && conn.waiting() < 8 {
                conn.request(
                    sent,
                    "POST",
                    b"/trade-api/v2/portfolio/events/orders",
                    &headers,
                    |w| w.extend_from_slice(body),
                )
                .unwrap();
                sent += 1;
            }
            poll.poll(&mut events, Some(Duration::from_millis(20)))
                .unwrap();
            let outcome = conn
                .pump(&mut |r| {
                    got += 1;
                    bytes += r.body.len();
                })
                .unwrap();
            assert!(!matches!(outcome, Pumped::Closed(_)));
            assert!(Instant::now() < deadline, "timed out at {got}");
        }
        bytes
    };
    run(300, &mut conn);
    let before = allocations();
    let bytes = run(2_000, &mut conn);
    let allocated = allocations() - before;
    assert!(bytes > 2_000 * body.len());
    assert_eq!(allocated, 0, "{allocated} allocations over 2,000 requests");
}
