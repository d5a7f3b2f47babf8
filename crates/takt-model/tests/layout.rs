//! The plant as a line, as screens draw it: stations in flow order, machines, buffers and flows.

use std::path::Path;
use takt_model::layout::PlantLayout;

fn layout_of(file: &str) -> PlantLayout {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(file);
    let loaded = takt_model::load_file(&path).expect("shipped scenario loads");
    PlantLayout::of(&loaded.model)
}

#[test]
fn the_bottling_line_is_drawn_in_flow_order_with_its_buffers() {
    let layout = layout_of("bottling-line.toml");
    let names: Vec<&str> = layout.stations.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Filler", "Labeller", "CasePacker"]);
    let stages: Vec<u32> = layout.stations.iter().map(|s| s.stage).collect();
    assert_eq!(stages, [0, 1, 2]);
    let labeller = &layout.stations[1];
    assert_eq!(labeller.input_buffer.name, "conveyor-fill-label");
    assert_eq!(labeller.input_buffer.capacity, Some(240));
    assert!(layout.stations[0].input_buffer.implicit);
    assert_eq!(labeller.machines, ["Labeller"]);
    assert_eq!(
        layout
            .flows
            .iter()
            .map(|f| (f.from.as_str(), f.to.as_str()))
            .collect::<Vec<_>>(),
        [("Filler", "Labeller"), ("Labeller", "CasePacker")]
    );
    assert_eq!(layout.utc_offset_min, 60);
}

#[test]
fn every_station_of_every_shipped_plant_is_placed_once_after_what_feeds_it() {
    for file in [
        "body-in-white.toml",
        "forging-shop.toml",
        "injection-moulding.toml",
        "okuma-cell.toml",
        "reference-line.toml",
    ] {
        let layout = layout_of(file);
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scenarios")
            .join(file);
        let model = takt_model::load_file(&path).expect("loads").model;
        assert_eq!(layout.stations.len(), model.stations.len(), "{file}");
        let position = |name: &str| layout.stations.iter().position(|s| s.name == name);
        for s in &model.stations {
            assert!(position(&s.name).is_some(), "{file}: {}", s.name);
        }
        // Stages never decrease along the list, and a machine count is kept.
        assert!(
            layout.stations.windows(2).all(|w| w[0].stage <= w[1].stage),
            "{file}"
        );
        let machines: usize = layout.stations.iter().map(|s| s.machines.len()).sum();
        let expected: u32 = model.stations.iter().map(|s| s.machines).sum();
        assert_eq!(machines, expected as usize, "{file}");
        // A routing's first operation is at stage 0.
        for p in &model.products {
            let first = &model.stations[p.routing[0].stations[0]].name;
            let station = &layout.stations[position(first).expect("placed")];
            assert_eq!(station.stage, 0, "{file}: {first}");
        }
    }
}
