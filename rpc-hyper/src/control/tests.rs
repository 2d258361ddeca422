//! The reaper's rules, at chosen moments of its coarse clock.

use super::*;

fn connections() -> Arc<Connections> {
    // Header read timeout 80 ms: scans every 10 ms, late after 90.
    Arc::new(Connections::new(
        Duration::from_secs(60),
        Duration::from_millis(80),
        0,
    ))
}

fn at(connections: &Connections, now: u64) {
    connections.now_ms.store(now, Ordering::Relaxed);
}

/// A connection at `now` that has served one request and waits for the next.
fn served(connections: &Arc<Connections>, now: u64) -> Arc<Control> {
    at(connections, now);
    let control = connections.track();
    control.request_started();
    control.request_finished();
    control
}

fn levels(connections: &Connections, now: u64) -> Vec<u8> {
    connections
        .due(now)
        .into_iter()
        .map(|(_, level)| level)
        .collect()
}

#[test]
fn closed_connections_are_forgotten_without_a_reaper() {
    let connections = connections();
    let kept: Vec<_> = (0..10).map(|_| connections.track()).collect();
    for _ in 0..10_000 {
        drop(connections.track());
    }
    assert!(
        connections.remembered() <= 64 + 1,
        "{} remembered",
        connections.remembered()
    );
    // The open ones are all still signalled.
    connections.signal_all(DRAIN);
    assert!(kept
        .iter()
        .all(|control| control.signal.load(Ordering::Relaxed) == DRAIN));
}

#[test]
fn a_head_is_late_once_the_timeout_has_passed_since_it_began() {
    let connections = connections();
    let control = served(&connections, 1_000);
    assert!(levels(&connections, 5_000).is_empty());
    at(&connections, 5_000);
    control.bytes_read(); // a head begins
    assert!(levels(&connections, 5_089).is_empty());
    assert_eq!(levels(&connections, 5_090), [CLOSE]);
}

#[test]
fn a_head_behind_a_response_being_written_is_not_late() {
    let connections = connections();
    let control = served(&connections, 1_000);
    control.bytes_read(); // the next request's first bytes, while the response drains
    for now in (1_000..2_000).step_by(10) {
        at(&connections, now);
        control.wrote();
        assert!(levels(&connections, now).is_empty(), "cut off at {now}");
    }
    // Once nothing is written, the head's clock runs.
    assert_eq!(levels(&connections, 1_990 + 90), [CLOSE]);
}

#[test]
fn a_connection_is_idle_once_no_byte_moved_for_the_keep_alive_timeout() {
    let connections = connections();
    let control = served(&connections, 0);
    assert!(levels(&connections, 60_009).is_empty());
    assert_eq!(levels(&connections, 60_010), [DRAIN]);
    // Still there a keep-alive timeout later: stuck, closed; unless a request is at work.
    assert_eq!(levels(&connections, 120_009), [DRAIN]);
    assert_eq!(levels(&connections, 120_010), [CLOSE]);
    control.request_started();
    assert_eq!(levels(&connections, 120_010), [DRAIN]);
    control.request_finished();
    drop(control);
    assert!(
        levels(&connections, 60_010).is_empty(),
        "a closed connection is forgotten"
    );
}

#[test]
fn the_reaper_scans_on_its_own_thread_until_its_guard_goes() {
    let connections = connections();
    let control = connections.track();
    let reaper = connections.start_reaper();
    // Its scans move the coarse clock, with no runtime: it is a thread of its own.
    let moved = |from: u64| {
        (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(5));
            control.now_ms() > from
        })
    };
    assert!(moved(0), "the reaper never scanned");
    assert!(matches!(reaper, Reaper::Thread(_)));
    // Dropped, it lets go of the connections at once: the thread has ended.
    drop(reaper);
    let released = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(5));
        Arc::strong_count(&connections) == 2
    });
    assert!(released, "the reaper still holds the connections");
    let stopped_at = control.now_ms();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        control.now_ms(),
        stopped_at,
        "the reaper scanned after it was stopped"
    );
}
