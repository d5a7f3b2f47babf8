//! While the plant says nothing, the MQTT listener still calls back now and then (with an empty
//! report), so that what depends on the clock, an alert on a machine gone silent, is judged; a
//! batch of events resets the wait. Against Debian's mosquitto on loopback.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use takt_twin::mirror::MirrorConfig;
use takt_twin::mqtt::{MqttConfig, listen};
use takt_twin::store::Store;
use takt_twin::{IngestReport, Twin};

#[test]
fn a_quiet_plant_still_gets_the_listener_called_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(broker) = common::Broker::start(dir.path(), "allow_anonymous true", "") else {
        return;
    };
    let mqtt = MqttConfig {
        host: "127.0.0.1".into(),
        port: broker.port,
        site: "quiet".into(),
        line: None,
        client_id: "takt-quiet".into(),
        batch: 100,
        batch_wait: Duration::from_millis(20),
        credentials: None,
        tls: None,
        quiet_tick: Duration::from_millis(300),
    };
    let model = common::bottling();
    let stop = Arc::new(AtomicBool::new(false));
    let stopper = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2000));
            stop.store(true, Ordering::Relaxed);
        })
    };
    let mut twin = Twin::open(
        &model,
        Store::memory().expect("store"),
        MirrorConfig::default(),
    )
    .expect("twin");
    let started = Instant::now();
    let mut calls: Vec<(Duration, IngestReport)> = Vec::new();
    listen(&mut twin, &mqtt, &stop, |_, report| {
        calls.push((started.elapsed(), report.clone()));
    })
    .expect("listens");
    stopper.join().expect("stopper");
    // Two seconds of silence with a tick of 0.3 s: called back about six times, each time empty,
    // never more often than the tick.
    assert!(calls.len() >= 4, "{calls:?}");
    assert!(calls.iter().all(|(_, r)| *r == IngestReport::default()));
    for pair in calls.windows(2) {
        assert!(
            pair[1].0 - pair[0].0 >= Duration::from_millis(290),
            "{calls:?}"
        );
    }
}
