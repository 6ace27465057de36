//! `pt_net` against real servers on 127.0.0.1: tokio-tungstenite over
//! tokio-rustls for the happy paths and refusals, a raw TCP server for
//! malformed frames.
// tungstenite fixes the handshake callback's (large) error type.
#![allow(clippy::result_large_err)]

mod net_support;

use futures_util::{SinkExt, StreamExt};
use net_support::*;
use pt_net::{NetError, PollOutcome, ProtocolError, WsClient, WsConfig, tls};
use std::sync::mpsc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{Message, http};

const WAIT: Duration = Duration::from_secs(5);

/// Echoes text and binary messages; reports the `KALSHI-ACCESS-KEY` header.
fn echo_server(identity: Option<&Identity>, headers: mpsc::Sender<String>) -> Server {
    serve(identity, move |stream| {
        let headers = headers.clone();
        async move {
            let callback = move |req: &http::Request<()>, resp| {
                let key = req.headers().get("KALSHI-ACCESS-KEY");
                let key = key.and_then(|v| v.to_str().ok()).unwrap_or_default();
                let _ = headers.send(key.to_owned());
                Ok(resp)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(stream, callback)
                .await
                .unwrap();
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_text() || msg.is_binary() {
                    ws.send(msg).await.unwrap();
                }
            }
        }
    })
}

fn round_trip(identity: Option<&Identity>) {
    let (tx, rx) = mpsc::channel();
    let server = echo_server(identity, tx);
    let mut cfg = config(&server, 1 << 17);
    let secret = ("KALSHI-ACCESS-KEY".to_owned(), "key-123".to_owned());
    cfg.extra_headers.push(secret);
    assert!(
        !format!("{cfg:?}").contains("key-123"),
        "Debug must redact header values"
    );
    let mut conn = open(&cfg);
    assert!(conn.client.is_open());
    assert!(!format!("{:?}", conn.client).contains("key-123"));
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), "key-123");
    // 7-bit, 16-bit and 64-bit lengths, both ways.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    conn.client.send_text(b"hello").unwrap();
    conn.client.send_binary(&big[..40_000]).unwrap();
    conn.client.send_binary(&big).unwrap();
    let got = conn.collect(3).unwrap();
    assert_eq!(got[0], (true, b"hello".to_vec()));
    assert_eq!(got[1], (false, big[..40_000].to_vec()));
    assert_eq!(got[2], (false, big));
    assert!(matches!(conn.client.send_ping(b"keepalive"), Ok(())));
}

#[test]
fn tls_round_trip_with_extra_headers() {
    round_trip(Some(&identity()));
}

#[test]
fn plain_ws_round_trip() {
    round_trip(None);
}

#[test]
fn server_fragments_are_reassembled_around_a_ping() {
    let identity = identity();
    let server = serve(Some(&identity), |stream| async move {
        let mut ws = accept(stream).await;
        let frames = [
            Frame::message("frag", OpCode::Data(Data::Text), false),
            Frame::ping("mid"),
            Frame::message("ment", OpCode::Data(Data::Continue), false),
            Frame::message("ed", OpCode::Data(Data::Continue), true),
        ];
        for frame in frames {
            ws.send(Message::Frame(frame)).await.unwrap();
        }
        ws.send(Message::text("whole")).await.unwrap();
        while ws.next().await.is_some() {}
    });
    let mut conn = open(&config(&server, 1024));
    let got = conn.collect(2).unwrap();
    assert_eq!(got[0], (true, b"fragmented".to_vec()));
    assert_eq!(got[1], (true, b"whole".to_vec()));
}

#[test]
fn ping_is_answered_with_a_pong_carrying_its_payload() {
    let identity = identity();
    let (tx, rx) = mpsc::channel();
    let server = serve(Some(&identity), move |stream| {
        let tx = tx.clone();
        async move {
            let mut ws = accept(stream).await;
            ws.send(Message::Ping(b"are you there".to_vec().into()))
                .await
                .unwrap();
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Pong(payload) = msg {
                    let _ = tx.send(payload.to_vec());
                }
            }
        }
    });
    let mut conn = open(&config(&server, 1024));
    for _ in 0..100 {
        conn.client
            .poll(Some(Duration::from_millis(20)), &mut |_| {})
            .unwrap();
        if let Ok(pong) = rx.try_recv() {
            assert_eq!(pong, b"are you there");
            return;
        }
    }
    panic!("the server saw no pong");
}

#[test]
fn server_close_is_answered_and_reported() {
    let identity = identity();
    let (tx, rx) = mpsc::channel();
    let server = serve(Some(&identity), move |stream| {
        let tx = tx.clone();
        async move {
            let mut ws = accept(stream).await;
            let frame = CloseFrame {
                code: CloseCode::from(4001),
                reason: "maintenance".into(),
            };
            ws.send(Message::Close(Some(frame))).await.unwrap();
            // tungstenite yields the client's answering close, then ends.
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Close(answer) = msg {
                    let _ = tx.send(answer.map(|f| u16::from(f.code)));
                }
            }
        }
    });
    let (_, outcome) = run_to_end(&config(&server, 1024));
    assert_eq!(
        outcome.unwrap(),
        PollOutcome::Closed {
            code: Some(4001),
            reason: "maintenance".to_owned()
        }
    );
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Some(4001));
}

#[test]
fn client_close_completes_when_the_server_answers() {
    let (tx, _rx) = mpsc::channel();
    let server = echo_server(None, tx);
    let mut conn = open(&config(&server, 1024));
    conn.client.close(1000, "done").unwrap();
    assert!(!conn.client.is_open());
    assert!(matches!(
        conn.client.send_text(b"late"),
        Err(NetError::Closed)
    ));
    let outcome = conn.until_end().unwrap();
    assert_eq!(
        outcome,
        PollOutcome::Closed {
            code: Some(1000),
            reason: "done".to_owned()
        }
    );
}

#[test]
fn oversized_message_is_a_typed_error() {
    let identity = identity();
    let server = serve(Some(&identity), |stream| async move {
        let mut ws = accept(stream).await;
        ws.send(Message::binary(vec![7u8; 2000])).await.unwrap();
        while ws.next().await.is_some() {}
    });
    let (_, outcome) = run_to_end(&config(&server, 1000));
    let err = outcome.unwrap_err();
    assert!(
        matches!(
            err,
            NetError::MessageTooLarge {
                len: 2000,
                max: 1000
            }
        ),
        "{err}"
    );
}

#[test]
fn refused_upgrade_reports_status_and_body() {
    let identity = identity();
    let server = serve(Some(&identity), |stream| async move {
        let body = r#"{"error":{"code":"authentication_error","message":"bad signature"}}"#;
        let callback = move |_: &http::Request<()>, _| {
            let resp = http::Response::builder()
                .status(401)
                .header("Content-Length", body.len())
                .body(Some(body.to_owned()))
                .unwrap();
            Err(resp)
        };
        let _ = tokio_tungstenite::accept_hdr_async(stream, callback).await;
    });
    let err = connect_error(&config(&server, 1024));
    match &err {
        NetError::Http {
            status: 401,
            body_prefix,
        } => assert!(body_prefix.contains("bad signature"), "{body_prefix}"),
        other => panic!("expected HTTP 401, got {other}"),
    }
    assert!(err.to_string().contains("401"));
}

#[test]
fn certificate_from_another_ca_is_a_tls_error() {
    let server_identity = identity();
    let other = identity();
    let server = serve(Some(&server_identity), |stream| async move {
        let _ = accept(stream).await;
    });
    let mut cfg = WsConfig::new("localhost", server.port, "/");
    cfg.tls = Some(tls::client_config_from_ca_file(&other.ca_file).unwrap());
    let err = connect_error(&cfg);
    assert!(matches!(err, NetError::Tls(_)), "{err}");
}

#[test]
fn connection_refused_is_an_io_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let cfg = WsConfig::new("127.0.0.1", port, "/");
    let err = match WsClient::connect(&cfg) {
        Err(e) => e,
        Ok(_) => connect_error(&cfg),
    };
    assert!(matches!(err, NetError::Io { op: "connect", .. }), "{err}");
}

fn raw_frame_error(frames: &[u8]) -> NetError {
    let server = raw_server(frames.to_vec());
    run_to_end(&config(&server, 1024)).1.unwrap_err()
}

#[test]
fn malformed_server_frames_are_protocol_errors() {
    let cases: [(&[u8], ProtocolError); 4] = [
        (
            &[0x81, 0x85, 1, 2, 3, 4, 105, 103, 111, 104, 110],
            ProtocolError::MaskedServerFrame,
        ),
        (&[0xA1, 0x01, b'x'], ProtocolError::ReservedBits),
        (&[0x8B, 0x00], ProtocolError::BadOpcode(0xB)),
        (&[0x80, 0x01, b'x'], ProtocolError::UnexpectedContinuation),
    ];
    for (frames, want) in cases {
        match raw_frame_error(frames) {
            NetError::Protocol(got) => assert_eq!(got, want),
            other => panic!("{frames:?}: {other}"),
        }
    }
}

#[test]
fn stream_ending_without_close_is_unexpected_eof() {
    let server = serve(None, |stream| async move {
        let mut ws = accept(stream).await;
        ws.send(Message::text("last words")).await.unwrap();
        // Dropping the stream closes TCP without a WebSocket close.
    });
    let (got, outcome) = run_to_end(&config(&server, 1024));
    let err = outcome.unwrap_err();
    assert_eq!(got, vec![(true, b"last words".to_vec())]);
    assert!(matches!(err, NetError::UnexpectedEof), "{err}");
}
