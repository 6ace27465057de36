//! The client's own TLS record layer (`pt_net::record`) against a real
//! rustls server on loopback: every cipher suite both versions offer, key
//! updates both ways, session tickets used for resumption, close_notify,
//! and a record corrupted on the wire.

mod net_support;

use futures_util::{SinkExt, StreamExt};
use net_support::*;
use pt_net::{NetError, PollOutcome, WsClient, WsConfig, WsMessage};
use rustls::crypto::ring::{cipher_suite, default_provider};
use rustls::{HandshakeKind, SupportedCipherSuite, SupportedProtocolVersion};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

/// A server offering only `suite` over `version`.
fn identity_for(
    suite: SupportedCipherSuite,
    version: &'static SupportedProtocolVersion,
) -> Identity {
    let mut provider = default_provider();
    provider.cipher_suites = vec![suite];
    identity_with(provider, &[version])
}

/// Echoes text and binary messages.
fn echo(identity: &Identity) -> Server {
    serve(Some(identity), |stream| async move {
        let mut ws = accept(stream).await;
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_text() || msg.is_binary() {
                ws.send(msg).await.unwrap();
            }
        }
    })
}

#[test]
fn every_suite_round_trips() {
    let tls13 = &rustls::version::TLS13;
    let tls12 = &rustls::version::TLS12;
    let suites = [
        (cipher_suite::TLS13_AES_128_GCM_SHA256, tls13),
        (cipher_suite::TLS13_AES_256_GCM_SHA384, tls13),
        (cipher_suite::TLS13_CHACHA20_POLY1305_SHA256, tls13),
        (cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls12),
        (cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls12),
        (
            cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            tls12,
        ),
    ];
    // Spans several records each way (16 KiB of plaintext per record).
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for (suite, version) in suites {
        let identity = identity_for(suite, version);
        let server = echo(&identity);
        let mut conn = open(&config(&server, 1 << 17));
        let stats = conn.client.tls_stats().expect("TLS is up");
        assert_eq!(stats.suite, suite.suite());
        assert_eq!(stats.tls13, std::ptr::eq(version, tls13));
        conn.client.send_text(b"hello").unwrap();
        conn.client.send_binary(&big).unwrap();
        conn.client.send_text(b"bye").unwrap();
        let got = conn.collect(3).unwrap();
        assert_eq!(got[0], (true, b"hello".to_vec()), "{:?}", suite.suite());
        assert_eq!(got[1], (false, big.clone()), "{:?}", suite.suite());
        assert_eq!(got[2], (true, b"bye".to_vec()), "{:?}", suite.suite());
        let stats = conn.client.tls_stats().unwrap();
        assert!(stats.records_in >= 9 && stats.records_out >= 9, "{stats:?}");
        println!("{:?}: {stats:?}", suite.suite());
    }
}

#[test]
fn key_updates_both_ways() {
    const ROUNDS: usize = 3;
    let identity = identity();
    let server = serve_tls(&identity, |tls| async move {
        let mut ws = tokio_tungstenite::accept_async(tls).await.unwrap();
        for round in 0..ROUNDS {
            for i in 0..5 {
                ws.send(Message::text(format!("r{round} m{i}")))
                    .await
                    .unwrap();
            }
            // Asks the client to update its keys too.
            ws.get_mut().get_mut().1.refresh_traffic_keys().unwrap();
            ws.send(Message::text(format!("r{round} updated")))
                .await
                .unwrap();
            // Readable only if the client sent its KeyUpdate and switched.
            let Some(Ok(reply)) = ws.next().await else {
                return;
            };
            ws.send(Message::text(format!("echo {}", reply.to_text().unwrap())))
                .await
                .unwrap();
        }
        while ws.next().await.is_some() {}
    });
    let mut conn = open(&config(&server, 1 << 16));
    for round in 0..ROUNDS {
        let base = round * 7;
        conn.collect(base + 6).unwrap();
        assert_eq!(conn.got[base + 5].1, format!("r{round} updated").as_bytes());
        conn.client
            .send_text(format!("after {round}").as_bytes())
            .unwrap();
        conn.collect(base + 7).unwrap();
        assert_eq!(
            conn.got[base + 6].1,
            format!("echo after {round}").as_bytes()
        );
    }
    let stats = conn.client.tls_stats().unwrap();
    assert_eq!(
        (stats.key_updates_in, stats.key_updates_out),
        (ROUNDS as u32, ROUNDS as u32),
        "{stats:?}"
    );
}

#[test]
fn session_tickets_resume_the_next_connection() {
    let identity = identity();
    let (kinds, kind) = mpsc::channel::<Option<HandshakeKind>>();
    let server = serve_tls(&identity, move |tls| {
        let kinds = kinds.clone();
        async move {
            let _ = kinds.send(tls.get_ref().1.handshake_kind());
            let mut ws = tokio_tungstenite::accept_async(tls).await.unwrap();
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_text() {
                    ws.send(msg).await.unwrap();
                }
            }
        }
    });
    // One configuration (one session store) for both connections.
    let cfg = config(&server, 1 << 16);
    for expected in [HandshakeKind::Full, HandshakeKind::Resumed] {
        let mut conn = open(&cfg);
        conn.client.send_text(b"ping").unwrap();
        conn.collect(1).unwrap();
        assert_eq!(kind.recv_timeout(WAIT).unwrap(), Some(expected));
        let stats = conn.client.tls_stats().unwrap();
        assert!(stats.tickets >= 1, "{stats:?}");
        conn.client.close(1000, "done").unwrap();
        conn.until_end().unwrap();
    }
}

#[test]
fn close_notify_ends_the_stream_after_its_data() {
    let identity = identity();
    let server = serve_tls(&identity, |tls| async move {
        let mut ws = tokio_tungstenite::accept_async(tls).await.unwrap();
        for i in 0..3 {
            ws.send(Message::text(format!("m{i}"))).await.unwrap();
        }
        // close_notify with the TCP connection left open.
        let stream = ws.get_mut();
        stream.get_mut().1.send_close_notify();
        stream.flush().await.unwrap();
        tokio::time::sleep(WAIT).await;
    });
    let (got, end) = run_to_end(&config(&server, 1 << 16));
    assert!(matches!(end, Err(NetError::UnexpectedEof)), "{end:?}");
    let texts: Vec<&[u8]> = got.iter().map(|(_, m)| &m[..]).collect();
    assert_eq!(texts, [&b"m0"[..], b"m1", b"m2"]);
}

/// A loopback proxy that forwards both ways and flips one byte in the body
/// of the server's `nth` application-data record.
fn corrupting_proxy(upstream: u16, nth: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
        let (mut client_in, mut server_out) =
            (client.try_clone().unwrap(), server.try_clone().unwrap());
        std::thread::spawn(move || std::io::copy(&mut client_in, &mut server_out));
        let mut data_records = 0;
        loop {
            let mut header = [0u8; 5];
            if server.read_exact(&mut header).is_err() {
                return;
            }
            let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
            if server.read_exact(&mut body).is_err() {
                return;
            }
            if header[0] == 23 {
                data_records += 1;
                if data_records == nth {
                    body[0] ^= 0x40;
                }
            }
            if client
                .write_all(&header)
                .and_then(|()| client.write_all(&body))
                .is_err()
            {
                return;
            }
        }
    });
    port
}

#[test]
fn corrupted_record_is_a_decrypt_error() {
    const SENT: usize = 40;
    let identity = identity();
    let server = serve(Some(&identity), |stream| async move {
        let mut ws = accept(stream).await;
        for i in 0..SENT {
            if ws.send(Message::text(format!("m{i}"))).await.is_err() {
                return;
            }
        }
        while ws.next().await.is_some() {}
    });
    let mut cfg = WsConfig::new("127.0.0.1", corrupting_proxy(server.port, 25), "/ws");
    cfg.tls = config(&server, 1 << 16).tls;
    let mut client = WsClient::connect(&cfg).unwrap();
    let mut got = 0usize;
    let start = Instant::now();
    let error = loop {
        match client.poll(Some(Duration::from_millis(20)), &mut |m: WsMessage<'_>| {
            assert_eq!(m.payload(), format!("m{got}").as_bytes());
            got += 1;
        }) {
            Ok(PollOutcome::Closed { .. }) => panic!("closed without an error"),
            Ok(_) => {}
            Err(e) => break e,
        }
        assert!(start.elapsed() < WAIT, "no error after {got} messages");
    };
    assert!(
        matches!(error, NetError::Tls(rustls::Error::DecryptError)),
        "{error:?}"
    );
    assert!(
        (5..SENT).contains(&got),
        "{got} messages before the bad record"
    );
    assert!(!client.is_open());
}
