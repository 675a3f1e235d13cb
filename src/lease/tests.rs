//! Unit tests of the lease on a local lake.

use super::*;
use crate::store::local::LocalStore;

fn settings(wait: u64, ttl: u64) -> LeaseSettings {
    LeaseSettings {
        wait: Duration::from_secs(wait),
        ttl: Duration::from_secs(ttl),
        run_without_locking: false,
    }
}

fn local_lake() -> (tempfile::TempDir, Arc<dyn Store>, Layout) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(LocalStore::new(dir.path()).unwrap());
    (dir, store, Layout::for_lms("openedx", "lms"))
}

/// Takes the lease of `table` without waiting, for a moment of work.
async fn try_once(store: &Arc<dyn Store>, layout: &Layout, table: &str) -> Result<()> {
    hold(
        store.clone(),
        layout,
        table,
        "extract",
        settings(0, 30),
        &CancellationToken::new(),
        |_| async { Ok(()) },
    )
    .await
}

async fn record(store: &dyn Store, layout: &Layout) -> Record {
    let (data, _) = store
        .get_versioned(&key(layout, "t"))
        .await
        .unwrap()
        .unwrap();
    serde_json::from_slice(&data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_table_makes_others_wait_or_fail_and_is_released_after() {
    let (_dir, store, layout) = local_lake();
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel();
    let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
    let first = tokio::spawn({
        let (store, layout) = (store.clone(), layout.clone());
        async move {
            let stop = CancellationToken::new();
            hold(
                store,
                &layout,
                "t",
                "extract",
                settings(0, 30),
                &stop,
                |_| async {
                    entered_tx.send(()).unwrap();
                    finish_rx.await.unwrap();
                    Ok("first")
                },
            )
            .await
        }
    });
    entered_rx.await.unwrap();
    assert!(!record(store.as_ref(), &layout).await.released);

    // No wait: fails at once, naming the holder.
    let e = try_once(&store, &layout, "t")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("another edlake is writing this table"), "{e}");
    assert!(e.contains("`extract`"), "{e}");
    // Another table is not held.
    try_once(&store, &layout, "u").await.unwrap();

    // With a wait: runs once the first has finished, never alongside it.
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let second = tokio::spawn({
        let (store, layout, order) = (store.clone(), layout.clone(), order.clone());
        async move {
            hold(
                store,
                &layout,
                "t",
                "catalog sync",
                settings(20, 30),
                &CancellationToken::new(),
                |_| async move {
                    order.lock().unwrap().push("second");
                    Ok(())
                },
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    order.lock().unwrap().push("first done");
    finish_tx.send(()).unwrap();
    assert_eq!(first.await.unwrap().unwrap(), "first");
    second.await.unwrap().unwrap();
    assert_eq!(*order.lock().unwrap(), ["first done", "second"]);
    let last = record(store.as_ref(), &layout).await;
    assert!(last.released, "{last:?}");
    assert_eq!(last.command, "catalog sync");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_not_renewed_for_its_ttl_is_taken_over() {
    let (_dir, store, layout) = local_lake();
    let dead = Record {
        holder: "gone:1:0".into(),
        command: "extract".into(),
        acquired_at: now_secs() - 100,
        renewed_at: now_secs() - 61,
        ttl_seconds: 60,
        released: false,
    };
    store
        .put_if(&key(&layout, "t"), dead.bytes(), None)
        .await
        .unwrap()
        .unwrap();
    try_once(&store, &layout, "t").await.unwrap();
    assert_ne!(record(store.as_ref(), &layout).await.holder, "gone:1:0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_was_taken_stops_its_work() {
    let (_dir, store, layout) = local_lake();
    let thief = {
        let (store, layout) = (store.clone(), layout.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            // Another process decided the lease had expired and took it.
            let k = key(&layout, "t");
            let (_, tag) = store.get_versioned(&k).await.unwrap().unwrap();
            let mut taken = record(store.as_ref(), &layout).await;
            taken.holder = "thief:2:0".into();
            store
                .put_if(&k, taken.bytes(), Some(&tag))
                .await
                .unwrap()
                .unwrap();
        }
    };
    tokio::spawn(thief);
    let started = tokio::time::Instant::now();
    let fence_after = Arc::new(Mutex::new(None));
    let seen = fence_after.clone();
    let e = hold(
        store.clone(),
        &layout,
        "t",
        "extract",
        settings(0, 3),
        &CancellationToken::new(),
        |fence| async move {
            fence.check().unwrap();
            *seen.lock().unwrap() = Some(fence);
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("lost the lease"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(record(store.as_ref(), &layout).await.holder, "thief:2:0");
    // Any copy of the fence the work kept is closed too.
    let fence = fence_after.lock().unwrap().take().unwrap();
    assert!(fence
        .check()
        .unwrap_err()
        .to_string()
        .contains("lost the lease"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_process_stops_waiting_for_a_held_table() {
    let (_dir, store, layout) = local_lake();
    let held = Record {
        holder: "other:1:0".into(),
        command: "extract".into(),
        acquired_at: now_secs(),
        renewed_at: now_secs(),
        ttl_seconds: 600,
        released: false,
    };
    store
        .put_if(&key(&layout, "t"), held.bytes(), None)
        .await
        .unwrap()
        .unwrap();
    let stop = CancellationToken::new();
    let cancel = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let started = tokio::time::Instant::now();
    let e = hold(
        store,
        &layout,
        "t",
        "extract",
        settings(600, 30),
        &stop,
        |_| async { Ok(()) },
    )
    .await
    .unwrap_err();
    assert!(
        e.downcast_ref::<crate::shutdown::Stopping>().is_some(),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
