//! The shift calendar (weekly shifts and breaks on whole minutes) and the scenario's start.

use super::*;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `"mon-fri"`, `"sat,sun"`, `"daily"` -> day indices (0 = Monday).
pub(super) fn parse_days(text: &str) -> Result<Vec<usize>, String> {
    let day = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        DAY_NAMES
            .iter()
            .position(|d| s.starts_with(d) && s.len() >= 3)
            .ok_or_else(|| format!("unknown day `{s}`: use mon, tue, wed, thu, fri, sat, sun"))
    };
    let t = text.trim().to_ascii_lowercase();
    if t == "daily" || t == "all" {
        return Ok((0..7).collect());
    }
    let mut out = Vec::new();
    for part in t.split(',') {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (day(a)?, day(b)?);
            let mut d = a;
            loop {
                out.push(d);
                if d == b {
                    break;
                }
                d = (d + 1) % 7;
            }
        } else {
            out.push(day(part)?);
        }
    }
    Ok(out)
}

/// `"06:00"` -> seconds after midnight.
pub(super) fn parse_clock(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a time of day: expected HH:MM (00:00 to 24:00)");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(f64::from(h * 3600 + m * 60))
}

/// The calendar's production time, and its shifts one per day they run on.
pub(super) fn compile_calendar(
    p: &mut Problems,
    c: &CalendarSpec,
) -> (Option<Calendar>, Vec<WeeklyShift>) {
    // Work on whole minutes of the week: exact, and small enough (10,080 slots).
    const MINUTES: usize = 7 * 24 * 60;
    let mut on = vec![false; MINUTES];
    let mut ok = true;
    let mut shifts = Vec::new();
    let mark = |slots: &mut Vec<bool>, day: usize, start_s: f64, len_s: f64, value: bool| {
        let start = day * 1440 + (start_s / 60.0) as usize;
        let len = (len_s / 60.0).round() as usize;
        for i in 0..len {
            slots[(start + i) % MINUTES] = value;
        }
    };
    if c.shifts.is_empty() {
        p.push("calendar.shifts", "a calendar needs at least one shift");
    }
    for (i, sh) in c.shifts.iter().enumerate() {
        let path = format!("calendar.shifts[{i}]");
        let days = parse_days(&sh.days).map_err(|m| p.push(format!("{path}.days"), m));
        let start = parse_clock(&sh.start).map_err(|m| p.push(format!("{path}.start"), m));
        let end = parse_clock(&sh.end).map_err(|m| p.push(format!("{path}.end"), m));
        let (Ok(days), Ok(start), Ok(end)) = (days, start, end) else {
            ok = false;
            continue;
        };
        let len = if end > start {
            end - start
        } else {
            end + 86_400.0 - start
        };
        for d in days {
            mark(&mut on, d, start, len, true);
            shifts.push(WeeklyShift {
                name: sh.name.clone(),
                start_s: d as f64 * 86_400.0 + start,
                length_s: len,
            });
        }
    }
    for (i, br) in c.breaks.iter().enumerate() {
        let path = format!("calendar.breaks[{i}]");
        let days = parse_days(&br.days).map_err(|m| p.push(format!("{path}.days"), m));
        let start = parse_clock(&br.start).map_err(|m| p.push(format!("{path}.start"), m));
        let (Ok(days), Ok(start)) = (days, start) else {
            ok = false;
            continue;
        };
        if br.duration.0 % 60.0 != 0.0 {
            p.push(
                format!("{path}.duration"),
                "break durations are whole minutes",
            );
        }
        for d in days {
            mark(&mut on, d, start, br.duration.0, false);
        }
    }
    if !ok {
        return (None, Vec::new());
    }
    let mut on_intervals = Vec::new();
    let mut i = 0;
    while i < MINUTES {
        if on[i] {
            let start = i;
            while i < MINUTES && on[i] {
                i += 1;
            }
            on_intervals.push((start as f64 * 60.0, i as f64 * 60.0));
        } else {
            i += 1;
        }
    }
    if on_intervals.is_empty() {
        p.push(
            "calendar",
            "the calendar has no production time left (breaks cover every shift)",
        );
        return (None, Vec::new());
    }
    if on_intervals.len() == 1 && on_intervals[0] == (0.0, WEEK_S) {
        return (None, shifts); // around the clock
    }
    (Some(Calendar { on_intervals }), shifts)
}

pub(super) fn timebase_of(dt: &toml::value::Datetime) -> Result<Timebase, String> {
    let (Some(date), Some(time)) = (dt.date, dt.time) else {
        return Err("start needs a full date and time, e.g. 2026-01-05T06:00:00+01:00".into());
    };
    let offset_min = match dt.offset {
        Some(toml::value::Offset::Z) => 0,
        Some(toml::value::Offset::Custom { minutes }) => i32::from(minutes),
        None => {
            return Err(
                "start needs a UTC offset (Z or +hh:mm), e.g. 2026-01-05T06:00:00+01:00".into(),
            );
        }
    };
    let days = crate::time::days_from_civil(
        i64::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    );
    let local_secs = days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second.unwrap_or(0));
    // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
    let weekday = (days + 3).rem_euclid(7);
    Ok(Timebase {
        start_unix_s: local_secs - i64::from(offset_min) * 60,
        utc_offset_min: offset_min,
        week_phase_s: (weekday * 86_400 + local_secs.rem_euclid(86_400)) as f64,
    })
}
