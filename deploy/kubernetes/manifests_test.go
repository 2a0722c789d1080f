package kubernetes

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The manifests are decoded into the Kubernetes API types themselves
// (k8s.io/api, and the Prometheus Operator's for the PodMonitor), with
// unknown fields refused, as the API server's strict field validation
// refuses them: a misspelt or misplaced field (readOnlyRootFileSystem, a
// securityContext one level off) fails here. The test alone imports them;
// the binary links none of it.

// decode reads file strictly into v: one document, no unknown field.
func decode(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains("\n"+string(b), "\n---") {
		t.Fatalf("%s: more than one document", file)
	}
	if err := unmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// unmarshalStrict decodes YAML as the API server's strict field
// validation does: field names match case-sensitively (encoding/json's
// do not), and an unknown or duplicate field is an error.
func unmarshalStrict(b []byte, v any) error {
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func TestManifests(t *testing.T) {
	var ds appsv1.DaemonSet
	var svc corev1.Service
	var pm monitoringv1.PodMonitor
	var ns corev1.Namespace
	decode(t, "daemonset.yaml", &ds)
	decode(t, "service.yaml", &svc)
	decode(t, "podmonitor.yaml", &pm)
	decode(t, "namespace.yaml", &ns)

	kinds := []struct{ got, want string }{
		{ds.APIVersion + " " + ds.Kind, "apps/v1 DaemonSet"},
		{svc.APIVersion + " " + svc.Kind, "v1 Service"},
		{pm.APIVersion + " " + pm.Kind, "monitoring.coreos.com/v1 PodMonitor"},
		{ns.APIVersion + " " + ns.Kind, "v1 Namespace"},
	}
	for _, k := range kinds {
		if k.got != k.want {
			t.Errorf("kind %q, want %q", k.got, k.want)
		}
	}
	for _, m := range []struct{ name, namespace string }{{ds.Name, ds.Namespace}, {svc.Name, svc.Namespace}, {pm.Name, pm.Namespace}} {
		if m.namespace != ns.Name {
			t.Errorf("%s is in namespace %q, want %q", m.name, m.namespace, ns.Name)
		}
	}
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Error("the namespace does not enforce the restricted Pod Security Standard")
	}

	pod := ds.Spec.Template
	if ds.Spec.Selector == nil || !subset(ds.Spec.Selector.MatchLabels, pod.Labels) {
		t.Errorf("DaemonSet selector %v does not select its pods %v", ds.Spec.Selector, pod.Labels)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]

	// No privilege: non-root, no capability, nothing to escalate to, a
	// read-only root, the runtime's seccomp profile, the pod network.
	psc, csc := pod.Spec.SecurityContext, c.SecurityContext
	switch {
	case psc == nil || csc == nil:
		t.Fatal("no securityContext on the pod or the container")
	case !isTrue(psc.RunAsNonRoot) || !isTrue(csc.RunAsNonRoot):
		t.Error("runAsNonRoot is not true on pod and container")
	case psc.RunAsUser == nil || *psc.RunAsUser == 0:
		t.Error("runAsUser is not a non-zero uid")
	case csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation is not false")
	case !isTrue(csc.ReadOnlyRootFilesystem):
		t.Error("readOnlyRootFilesystem is not true")
	case isTrue(csc.Privileged):
		t.Error("privileged")
	case csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) > 0:
		t.Errorf("capabilities %+v, want drop [ALL] and no add", csc.Capabilities)
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("no RuntimeDefault seccomp profile")
	case pod.Spec.HostNetwork:
		t.Error("hostNetwork: the restricted standard forbids it")
	}

	// The agent's flags agree with the Service and the ports.
	flags := map[string]string{}
	for _, a := range c.Args[1:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(k, "--") {
			t.Errorf("argument %q is not --flag=value", a)
		}
		flags[k] = v
	}
	if c.Args[0] != "mesh" {
		t.Errorf("command %q, want mesh", c.Args[0])
	}
	if want := "dns:" + svc.Name + "." + svc.Namespace + ".svc.cluster.local"; flags["--peers"] != want {
		t.Errorf("--peers %q, want the headless Service's name %q", flags["--peers"], want)
	}
	if !strings.HasSuffix(flags["--listen"], ":10151") {
		t.Errorf("--listen %q, want port 10151", flags["--listen"])
	}
	ports := map[string]corev1.ContainerPort{}
	for _, p := range c.Ports {
		ports[p.Name] = p
	}
	if ports["http"].ContainerPort != 10151 || ports["http"].Protocol != corev1.ProtocolTCP ||
		ports["responder"].ContainerPort != 10151 || ports["responder"].Protocol != corev1.ProtocolUDP {
		t.Errorf("container ports %+v, want http 10151/TCP and responder 10151/UDP", c.Ports)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(flags["--key-file"], m.MountPath+"/") && m.ReadOnly {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("--key-file %q is on no read-only volume mount", flags["--key-file"])
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || ports[c.ReadinessProbe.HTTPGet.Port.String()].Protocol != corev1.ProtocolTCP {
		t.Error("the readiness probe names no TCP port")
	}
	if c.Resources.Limits.Memory().IsZero() {
		t.Error("no memory limit")
	}

	// The headless Service: every agent's address, both protocols.
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service clusterIP %q, want None (headless)", svc.Spec.ClusterIP)
	}
	if !subset(svc.Spec.Selector, pod.Labels) {
		t.Errorf("Service selector %v does not select the agents %v", svc.Spec.Selector, pod.Labels)
	}
	for _, p := range svc.Spec.Ports {
		if cp, ok := ports[p.TargetPort.String()]; !ok || cp.Protocol != p.Protocol {
			t.Errorf("Service port %s targets %q/%s, which the container does not have", p.Name, p.TargetPort.String(), p.Protocol)
		}
	}

	// The PodMonitor scrapes the agents' http port.
	if !subset(pm.Spec.Selector.MatchLabels, pod.Labels) {
		t.Errorf("PodMonitor selector %v does not select the agents", pm.Spec.Selector.MatchLabels)
	}
	for _, e := range pm.Spec.PodMetricsEndpoints {
		if e.Port == nil || ports[*e.Port].Protocol != corev1.ProtocolTCP || e.Path != "/metrics" {
			t.Errorf("PodMonitor endpoint %+v: want the http port and /metrics", e)
		}
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// subset reports whether every label of sel is in labels (and sel has
// one at least).
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestStrictDecoding: the decoder refuses what kubectl would: a field in
// the wrong case.
func TestStrictDecoding(t *testing.T) {
	b, err := os.ReadFile("daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), "readOnlyRootFilesystem", "readOnlyRootFileSystem", 1)
	var ds appsv1.DaemonSet
	if err := unmarshalStrict([]byte(bad), &ds); err == nil || !strings.Contains(err.Error(), "readOnlyRootFileSystem") {
		t.Errorf("a misspelt field: %v, want an error naming it", err)
	}
}
