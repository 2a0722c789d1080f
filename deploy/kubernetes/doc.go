// Package kubernetes holds pmtu mesh's Kubernetes manifests (a DaemonSet,
// a headless Service, a PodMonitor, a Namespace), a plain Prometheus
// scrape config and the alert rules. It has no code: its test decodes
// the manifests offline, strictly, and checks what must hold between them.
package kubernetes
