module kubelet-credential-providers/conformance/upstream/gcp

go 1.26.0

// The upstream plugin, built with `go build k8s.io/cloud-provider-gcp/cmd/auth-provider-gcp`.
tool k8s.io/cloud-provider-gcp/cmd/auth-provider-gcp

require k8s.io/cloud-provider-gcp v0.0.0-20241115222652-d74b2e1d6653 // indirect

require (
	github.com/go-logr/logr v1.4.2 // indirect
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/google/gofuzz v1.2.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/spf13/cobra v1.8.0 // indirect
	github.com/spf13/pflag v1.0.5 // indirect
	golang.org/x/net v0.29.0 // indirect
	golang.org/x/text v0.18.0 // indirect
	gopkg.in/inf.v0 v0.9.1 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
	k8s.io/apimachinery v0.30.0 // indirect
	k8s.io/cloud-provider v0.30.0 // indirect
	k8s.io/cloud-provider-gcp/providers v0.0.0-00010101000000-000000000000 // indirect
	k8s.io/klog/v2 v2.120.1 // indirect
	k8s.io/kubelet v0.30.0 // indirect
	k8s.io/utils v0.0.0-20230726121419-3b25d923346b // indirect
	sigs.k8s.io/json v0.0.0-20221116044647-bc3834ca7abd // indirect
	sigs.k8s.io/structured-merge-diff/v4 v4.4.1 // indirect
)

// Copied from k8s.io/cloud-provider-gcp's own go.mod (replaces in a dependency are ignored),
// only those of modules in this build graph.
replace (
	golang.org/x/net => golang.org/x/net v0.17.0
	k8s.io/api => k8s.io/api v0.30.0
	k8s.io/apiextensions-apiserver => k8s.io/apiextensions-apiserver v0.30.0
	k8s.io/apimachinery => k8s.io/apimachinery v0.30.0
	k8s.io/apiserver => k8s.io/apiserver v0.30.0
	k8s.io/client-go => k8s.io/client-go v0.30.0
	k8s.io/cloud-provider => k8s.io/cloud-provider v0.30.0
	// upstream: => ./providers (same repository); no pseudo-version of it is served, and the
	// plugin only blank-imports providers/gce/gcpcredential (no init), so any version builds it alike.
	k8s.io/cloud-provider-gcp/providers => k8s.io/cloud-provider-gcp/providers v0.28.2
	k8s.io/code-generator => k8s.io/code-generator v0.30.0
	k8s.io/component-base => k8s.io/component-base v0.30.0
	k8s.io/component-helpers => k8s.io/component-helpers v0.30.0
	k8s.io/controller-manager => k8s.io/controller-manager v0.30.0
	k8s.io/cri-api => k8s.io/cri-api v0.30.0
	k8s.io/kube-controller-manager => k8s.io/kube-controller-manager v0.30.0
	k8s.io/kubelet => k8s.io/kubelet v0.30.0
	k8s.io/metrics => k8s.io/metrics v0.30.0
)
