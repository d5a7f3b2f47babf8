//! The twin logs in to a broker that wants a password and a client certificate over TLS, as a
//! plant's broker does: a real mosquitto on loopback with a password file (made by Debian's
//! `mosquitto_passwd`) and a TLS listener whose certificates are made here (rcgen). Events published
//! over TLS arrive and are stored; a wrong password, an untrusted broker certificate and a
//! missing client certificate each end listening with an error that says why, instead of retrying
//! forever; a bad PEM file is named.

#[path = "common/authority.rs"]
mod authority;
mod common;

use authority::Authority;
use rumqttc::{Client, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use takt_twin::mirror::MirrorConfig;
use takt_twin::mqtt::{MqttConfig, MqttCredentials, MqttError, MqttTls, listen, tls_client_config};
use takt_twin::store::Store;
use takt_twin::{ListenStats, Twin, TwinError};

const EVENTS: u64 = 200;

fn config(port: u16, password: &str, tls: MqttTls) -> MqttConfig {
    MqttConfig {
        host: "127.0.0.1".into(),
        port,
        site: "secure".into(),
        line: None,
        client_id: "takt-secure".into(),
        batch: 50,
        batch_wait: Duration::from_millis(20),
        credentials: Some(MqttCredentials {
            username: "twin".into(),
            password: password.into(),
        }),
        tls: Some(tls),
        quiet_tick: takt_twin::mqtt::QUIET_TICK,
    }
}

/// Listens on a thread until `stop` or an error; returns what `listen` returned.
fn listen_on_thread(
    mqtt: MqttConfig,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Result<ListenStats, TwinError>> {
    let model = common::bottling();
    std::thread::spawn(move || {
        let mut twin = Twin::open(
            &model,
            Store::memory().expect("store"),
            MirrorConfig::default(),
        )
        .expect("twin");
        listen(&mut twin, &mqtt, &stop, |_, _| {})
    })
}

/// What a listener that must fail returned, within 20 s.
fn refused(mqtt: MqttConfig) -> String {
    let stop = Arc::new(AtomicBool::new(false));
    let thread = listen_on_thread(mqtt, Arc::clone(&stop));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !thread.is_finished() {
        if Instant::now() > deadline {
            stop.store(true, Ordering::Relaxed);
            panic!("the listener kept retrying a connection that cannot succeed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    match thread.join().expect("listener thread") {
        Ok(stats) => panic!("the listener should have failed, it returned {stats:?}"),
        Err(TwinError::Mqtt(MqttError::Refused { reason, .. })) => reason,
        Err(e) => panic!("not a refusal: {e}"),
    }
}

#[test]
fn a_broker_with_password_and_mutual_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (ca, ca_file) = Authority::new(d, "plant-ca");
    let (server_cert, server_key) = ca.issue(d, "broker", &["127.0.0.1", "localhost"]);
    let (client_cert, client_key) = ca.issue(d, "twin", &["twin.plant.example"]);
    let (rogue, rogue_file) = Authority::new(d, "rogue-ca");
    let (rogue_cert, rogue_key) = rogue.issue(d, "rogue-twin", &["twin.plant.example"]);
    // The broker's logins, hashed by mosquitto's own tool (mosquitto 2 reads no plain passwords).
    let passwd = d.join("passwd");
    for (i, (user, password)) in [("twin", "s3cret"), ("gateway", "g4teway")]
        .iter()
        .enumerate()
    {
        let mut command = std::process::Command::new("mosquitto_passwd");
        if i == 0 {
            command.arg("-c");
        }
        command.arg("-b").arg(&passwd).args([user, password]);
        // Without mosquitto installed the broker below is skipped (or fails the test in CI).
        if let Ok(status) = command.status() {
            assert!(status.success(), "mosquitto_passwd {user}");
        }
    }
    let Some(broker) = common::Broker::start(
        d,
        &format!(
            "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true",
            ca_file.display(),
            server_cert.display(),
            server_key.display()
        ),
        &format!("allow_anonymous false\npassword_file {}", passwd.display()),
    ) else {
        return;
    };
    let good = MqttTls {
        ca_file: Some(ca_file.clone()),
        client_cert: Some((client_cert.clone(), client_key.clone())),
    };

    // Events published over TLS, as the plant's gateways do, reach the twin and are stored.
    let stop = Arc::new(AtomicBool::new(false));
    let listener = listen_on_thread(
        config(broker.port, "s3cret", good.clone()),
        Arc::clone(&stop),
    );
    std::thread::sleep(Duration::from_millis(500));
    let mut options = MqttOptions::new("gateway", "127.0.0.1", broker.port);
    options
        .set_credentials("gateway", "g4teway")
        .set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(tls_client_config(&good).expect("TLS settings")),
        )));
    let (client, mut connection) = Client::new(options, 100);
    let publisher = std::thread::spawn(move || {
        for seq in 1..=EVENTS {
            let payload = format!(
                r#"{{"ts":"2026-01-05T06:00:00.000+01:00","asset":"Filler","kind":"count","seq":{seq},"good":1}}"#
            );
            let topic = "takt/secure/line/Filler/count";
            if client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .is_err()
            {
                break;
            }
        }
        client
    });
    let mut acked = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked < EVENTS && Instant::now() < deadline {
        match connection.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => acked += 1,
            Ok(Err(e)) => panic!("the publisher's connection failed: {e}"),
            _ => {}
        }
    }
    assert_eq!(acked, EVENTS, "the broker took every publication");
    if let Ok(client) = publisher.join() {
        let _ = client.disconnect();
    }
    // The listener stores what it got within a batch wait; give it a moment.
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let stats = listener.join().expect("listener").expect("listening");
    assert_eq!((stats.received, stats.accepted), (EVENTS, EVENTS));
    assert_eq!(stats.reconnects, 0);

    // A wrong password is refused at once, not retried.
    let reason = refused(config(broker.port, "wrong", good.clone()));
    assert!(
        reason.contains("not authorized") || reason.contains("bad user name or password"),
        "{reason}"
    );
    // A broker whose certificate the twin does not trust.
    let reason = refused(config(
        broker.port,
        "s3cret",
        MqttTls {
            ca_file: Some(rogue_file.clone()),
            client_cert: Some((client_cert.clone(), client_key.clone())),
        },
    ));
    assert!(
        reason.contains("TLS") && reason.contains("certificate"),
        "{reason}"
    );
    // A client certificate the broker does not trust.
    let reason = refused(config(
        broker.port,
        "s3cret",
        MqttTls {
            ca_file: Some(ca_file.clone()),
            client_cert: Some((rogue_cert, rogue_key)),
        },
    ));
    assert!(reason.contains("TLS"), "{reason}");
}

#[test]
fn bad_tls_files_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").expect("file");
    let missing = dir.path().join("missing.pem");
    for (tls, named) in [
        (
            MqttTls {
                ca_file: Some(not_pem.clone()),
                client_cert: None,
            },
            &not_pem,
        ),
        (
            MqttTls {
                ca_file: Some(missing.clone()),
                client_cert: None,
            },
            &missing,
        ),
    ] {
        match tls_client_config(&tls) {
            Err(e @ MqttError::TlsFile { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&named.display().to_string()), "{text}");
            }
            Err(e) => panic!("not a file error: {e}"),
            Ok(_) => panic!("{} accepted", named.display()),
        }
    }
    // A certificate with a key that is not a key.
    let (ca, ca_file) = Authority::new(dir.path(), "ca");
    let (cert, _) = ca.issue(dir.path(), "twin", &["twin"]);
    match tls_client_config(&MqttTls {
        ca_file: Some(ca_file),
        client_cert: Some((cert, not_pem.clone())),
    }) {
        Err(e) => assert!(
            e.to_string().contains(&not_pem.display().to_string()),
            "{e}"
        ),
        Ok(_) => panic!("a key that is not a key was accepted"),
    }
}
