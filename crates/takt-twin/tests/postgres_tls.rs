//! A store on PostgreSQL over TLS, as a site reaches a database on another host: a real cluster on
//! loopback that takes TLS connections only (`hostssl` in `pg_hba.conf`), its certificate made here
//! (rcgen) for `localhost` by the plant's own CA. With `sslmode=verify-full` and that CA, events
//! are stored and read back over TLS; a plain connection, another CA, another name and a mode that
//! could fall back without a word are each refused, saying why.

#[path = "common/authority.rs"]
mod authority;
#[path = "common/postgres.rs"]
mod postgres;

use authority::Authority;
use postgres::Cluster;
use takt_twin::event::Checked;
use takt_twin::store::{Durability, Store, StoreLocation};

fn event(seq: u64) -> (Checked, String) {
    let line = format!(
        r#"{{"ts":"2026-01-05T06:00:{:02}Z","asset":"Filler","kind":"count","seq":{seq},"good":1}}"#,
        seq % 60
    );
    (
        takt_twin::event::parse(&line).expect("an event"),
        line.clone(),
    )
}

#[test]
fn a_store_over_tls_checks_the_servers_certificate_and_name() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let (plant_ca, ca_file) = Authority::new(dir.path(), "plant-ca");
    let (cert, key) = plant_ca.issue(dir.path(), "db", &["localhost"]);
    cluster.require_tls(&cert, &key);
    cluster.database("site");
    let url = |host: &str, params: &str| {
        format!("postgres://postgres@{host}:{}/site?{params}", cluster.port)
    };
    let connect = |url: &str| {
        StoreLocation::parse(url)
            .map_err(|e| e.to_string())
            .and_then(|l| Store::connect(&l, Durability::Full).map_err(|e| e.to_string()))
    };
    let verified = format!("sslmode=verify-full&sslrootcert={}", ca_file.display());

    let mut store = match connect(&url("localhost", &verified)) {
        Ok(store) => store,
        Err(e) => panic!("over TLS: {e}"),
    };
    let mut batch: Vec<(Checked, String)> = (1..=50).map(event).collect();
    assert_eq!(
        store.append(&mut batch, &[]).ok().map(|n| n.len()),
        Some(50)
    );
    assert_eq!(store.event_count().ok(), Some(50));
    // Every connection takt holds is encrypted.
    assert_eq!(
        cluster.sql(
            "site",
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'takt'"
        ),
        "t"
    );

    // Without TLS the server turns the connection away.
    let plain = connect(&url("localhost", "")).err().unwrap_or_default();
    assert!(plain.contains("no encryption"), "{plain}");
    // A certificate of a CA the twin was not told to trust.
    let (other_ca, other_file) = Authority::new(dir.path(), "other-ca");
    drop(other_ca);
    let untrusted = connect(&url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", other_file.display()),
    ))
    .err()
    .unwrap_or_default();
    assert!(untrusted.contains("UnknownIssuer"), "{untrusted}");
    // The right CA, but not the name the certificate was made for.
    let wrong_name = connect(&url("127.0.0.1", &verified))
        .err()
        .unwrap_or_default();
    assert!(wrong_name.contains("not valid for name"), "{wrong_name}");
    // Modes that fall back without a word, and a CA file that is not there, before any connection.
    let prefer = connect(&url("localhost", "sslmode=prefer"))
        .err()
        .unwrap_or_default();
    assert!(prefer.contains("sslmode=verify-full"), "{prefer}");
    let missing = dir.path().join("missing.pem");
    let no_file = connect(&url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", missing.display()),
    ))
    .err()
    .unwrap_or_default();
    assert!(
        no_file.contains(&missing.display().to_string()),
        "{no_file}"
    );
}
