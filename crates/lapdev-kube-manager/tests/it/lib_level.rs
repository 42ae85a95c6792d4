//! Library-level checks on kube-sim's in-process client: the status facts
//! and the request bound.

use lapdev_kube_manager::dispatch::Dispatcher;
use lapdev_kube_manager::status;
use lapdev_tunnel_proto::{ErrorCode, Request, Response};

use crate::session::expected_status;
use crate::support::SEED;

fn sim() -> kube_sim::KubeSim {
    kube_sim::KubeSim::builder()
        .seed_yaml("test", SEED)
        .build()
        .unwrap()
}

#[tokio::test]
async fn status_sums_allocatable_resources_over_nodes() {
    let sim = sim();
    assert_eq!(
        status::collect(&sim.client()).await.unwrap(),
        expected_status()
    );
    assert!(sim.requests().writes().is_empty());
}

#[tokio::test]
async fn requests_beyond_the_bound_are_answered_overloaded() {
    let sim = sim();
    let d = Dispatcher::new(sim.client(), 2);
    let a = d.admit().unwrap();
    let _b = d.admit().unwrap();
    let err = d.admit().unwrap_err();
    assert_eq!(err.code, ErrorCode::Overloaded);
    drop(a);
    let _c = d.admit().unwrap();
    assert_eq!(d.handle(Request::Ping).await.unwrap(), Response::Pong);
}
