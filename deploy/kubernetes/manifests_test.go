package kubernetes

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The manifests are decoded into the subset of the Kubernetes API types
// they use, with unknown fields refused: a misspelt or misplaced field
// (readOnlyRootFileSystem, a securityContext one level off) fails here
// as kubectl's server-side validation would fail it. k8s.io/api itself
// would pull k8s.io/apimachinery and its dependencies into a module
// whose binary needs none of them.

type meta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type capabilities struct {
	Add  []string `yaml:"add"`
	Drop []string `yaml:"drop"`
}

type securityContext struct {
	RunAsNonRoot             *bool         `yaml:"runAsNonRoot"`
	RunAsUser                *int64        `yaml:"runAsUser"`
	RunAsGroup               *int64        `yaml:"runAsGroup"`
	AllowPrivilegeEscalation *bool         `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool         `yaml:"readOnlyRootFilesystem"`
	Privileged               *bool         `yaml:"privileged"`
	Capabilities             *capabilities `yaml:"capabilities"`
	SeccompProfile           *struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

type containerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
	Protocol      string `yaml:"protocol"`
}

type container struct {
	Name           string          `yaml:"name"`
	Image          string          `yaml:"image"`
	Args           []string        `yaml:"args"`
	Ports          []containerPort `yaml:"ports"`
	ReadinessProbe *struct {
		HTTPGet struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"`
		} `yaml:"httpGet"`
		PeriodSeconds int `yaml:"periodSeconds"`
	} `yaml:"readinessProbe"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext *securityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type podSpec struct {
	AutomountServiceAccountToken *bool `yaml:"automountServiceAccountToken"`
	EnableServiceLinks           *bool `yaml:"enableServiceLinks"`
	HostNetwork                  bool  `yaml:"hostNetwork"`
	Tolerations                  []struct {
		Operator string `yaml:"operator"`
	} `yaml:"tolerations"`
	SecurityContext *securityContext `yaml:"securityContext"`
	Containers      []container      `yaml:"containers"`
	Volumes         []struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName  string `yaml:"secretName"`
			DefaultMode int    `yaml:"defaultMode"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type daemonSet struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   meta   `yaml:"metadata"`
	Spec       struct {
		Selector       labelSelector `yaml:"selector"`
		UpdateStrategy struct {
			Type          string `yaml:"type"`
			RollingUpdate struct {
				MaxUnavailable string `yaml:"maxUnavailable"`
			} `yaml:"rollingUpdate"`
		} `yaml:"updateStrategy"`
		Template struct {
			Metadata meta    `yaml:"metadata"`
			Spec     podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type service struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   meta   `yaml:"metadata"`
	Spec       struct {
		ClusterIP                string            `yaml:"clusterIP"`
		PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
		Selector                 map[string]string `yaml:"selector"`
		Ports                    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
			Protocol   string `yaml:"protocol"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type podMonitor struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   meta   `yaml:"metadata"`
	Spec       struct {
		Selector            labelSelector `yaml:"selector"`
		PodMetricsEndpoints []struct {
			Port     string `yaml:"port"`
			Path     string `yaml:"path"`
			Interval string `yaml:"interval"`
		} `yaml:"podMetricsEndpoints"`
	} `yaml:"spec"`
}

type namespace struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   meta   `yaml:"metadata"`
}

// decode reads file strictly into v: one document, no unknown field.
func decode(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var extra any
	if d.Decode(&extra) == nil {
		t.Fatalf("%s: more than one document", file)
	}
}

func TestManifests(t *testing.T) {
	var ds daemonSet
	var svc service
	var pm podMonitor
	var ns namespace
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
	for _, m := range []meta{ds.Metadata, svc.Metadata, pm.Metadata} {
		if m.Namespace != ns.Metadata.Name {
			t.Errorf("%s is in namespace %q, want %q", m.Name, m.Namespace, ns.Metadata.Name)
		}
	}
	if ns.Metadata.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Error("the namespace does not enforce the restricted Pod Security Standard")
	}

	pod := ds.Spec.Template
	if !subset(ds.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Errorf("DaemonSet selector %v does not select its pods %v", ds.Spec.Selector.MatchLabels, pod.Metadata.Labels)
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
	case csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []string{"ALL"}) || len(csc.Capabilities.Add) > 0:
		t.Errorf("capabilities %+v, want drop [ALL] and no add", csc.Capabilities)
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != "RuntimeDefault":
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
	if want := "dns:" + svc.Metadata.Name + "." + svc.Metadata.Namespace + ".svc.cluster.local"; flags["--peers"] != want {
		t.Errorf("--peers %q, want the headless Service's name %q", flags["--peers"], want)
	}
	if !strings.HasSuffix(flags["--listen"], ":10151") {
		t.Errorf("--listen %q, want port 10151", flags["--listen"])
	}
	ports := map[string]containerPort{}
	for _, p := range c.Ports {
		ports[p.Name] = p
	}
	if ports["http"].ContainerPort != 10151 || ports["http"].Protocol != "TCP" ||
		ports["responder"].ContainerPort != 10151 || ports["responder"].Protocol != "UDP" {
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
	if c.ReadinessProbe == nil || ports[c.ReadinessProbe.HTTPGet.Port].Protocol != "TCP" {
		t.Error("the readiness probe names no TCP port")
	}
	if c.Resources.Limits["memory"] == "" {
		t.Error("no memory limit")
	}

	// The headless Service: every agent's address, both protocols.
	if svc.Spec.ClusterIP != "None" {
		t.Errorf("Service clusterIP %q, want None (headless)", svc.Spec.ClusterIP)
	}
	if !subset(svc.Spec.Selector, pod.Metadata.Labels) {
		t.Errorf("Service selector %v does not select the agents %v", svc.Spec.Selector, pod.Metadata.Labels)
	}
	for _, p := range svc.Spec.Ports {
		if cp, ok := ports[p.TargetPort]; !ok || cp.Protocol != p.Protocol {
			t.Errorf("Service port %s targets %q/%s, which the container does not have", p.Name, p.TargetPort, p.Protocol)
		}
	}

	// The PodMonitor scrapes the agents' http port.
	if !subset(pm.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Errorf("PodMonitor selector %v does not select the agents", pm.Spec.Selector.MatchLabels)
	}
	for _, e := range pm.Spec.PodMetricsEndpoints {
		if ports[e.Port].Protocol != "TCP" || e.Path != "/metrics" {
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
	d := yaml.NewDecoder(strings.NewReader(bad))
	d.KnownFields(true)
	var ds daemonSet
	if err := d.Decode(&ds); err == nil || !strings.Contains(err.Error(), "readOnlyRootFileSystem") {
		t.Errorf("a misspelt field: %v, want an error naming it", err)
	}
}
