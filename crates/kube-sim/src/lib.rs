//! kube-sim: a Kubernetes API test server.
