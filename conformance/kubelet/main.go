// Command harness links the kubelet's own image credential provider code
// (k8s.io/kubernetes/pkg/credentialprovider{,/plugin}) at one kubelet minor
// and drives it the way the kubelet does, so the TypeScript suite can check
// our providers against the real thing.
//
// One source, one go.mod per minor: go.mod pins the newest minor, v1.3X.mod
// (with v1.3X.sum) the others, built with `go build -modfile=v1.3X.mod`. The
// kubelet APIs used here are the same in every minor from 1.33.
//
//	harness --config PATH --bin-dir DIR [--image IMAGE]... [--repeat N]
//	        [--pod-namespace NS --pod-name NAME --pod-uid UID
//	         --service-account NAME --service-account-uid UID]
//	        [--service-account-annotation KEY=VALUE]... [--service-account-token TOKEN]
//	        [--feature-gates K=V,...] [-v N] [--version]
//
// Output: one JSON line per lookup on stdout. Exit 0 on success, 2 when the
// kubelet's plugin registration fails (after printing {"error":"registration: ..."}),
// 64 on usage errors. klog goes to stderr.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/credentialprovider"
	credentialproviderplugin "k8s.io/kubernetes/pkg/credentialprovider/plugin"
	credentialprovidersecrets "k8s.io/kubernetes/pkg/credentialprovider/secrets"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/util/parsers"
)

const (
	exitOK           = 0
	exitRegistration = 2
	exitUsage        = 64

	defaultPodUID            = "11111111-1111-4111-8111-111111111111"
	defaultServiceAccountUID = "22222222-2222-4222-8222-222222222222"
	// A JWT-shaped but meaningless token (header.payload.signature, base64url).
	defaultServiceAccountToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UtaGFybmVzcy1rZXkifQ." +
		"eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMiLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpkZWZhdWx0IiwiYXVkIjpbImZha2UtYXVkaWVuY2UiXSwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3MDAwMDAwMDB9." +
		"ZmFrZS1zaWduYXR1cmUtbm90LXZlcmlmaWVk"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Output line types; field order is the JSON key order.
type lookupLine struct {
	Round       int              `json:"round"`
	Image       string           `json:"image"`
	Found       bool             `json:"found"`
	Credentials []credentialLine `json:"credentials"`
	Error       string           `json:"error,omitempty"`
}

type credentialLine struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type errorLine struct {
	Error string `json:"error"`
}

func main() {
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	klog.Flush()
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath   = fs.String("config", "", "kubelet --image-credential-provider-config (file, or directory on minors that support it)")
		binDir       = fs.String("bin-dir", "", "kubelet --image-credential-provider-bin-dir")
		repeat       = fs.Int("repeat", 1, "number of rounds over all --image values")
		podNamespace = fs.String("pod-namespace", "default", "pod namespace")
		podName      = fs.String("pod-name", "pod", "pod name")
		podUID       = fs.String("pod-uid", defaultPodUID, "pod UID")
		saName       = fs.String("service-account", "default", "pod.spec.serviceAccountName (empty = no service account)")
		saUID        = fs.String("service-account-uid", defaultServiceAccountUID, "service account UID")
		saToken      = fs.String("service-account-token", defaultServiceAccountToken, "token returned by the fake TokenRequest")
		extraGates   = fs.String("feature-gates", "", "extra kubelet feature gates, K=V[,K=V...], applied after the harness defaults")
		verbosity    = fs.Int("v", 0, "klog verbosity")
		version      = fs.Bool("version", false, "print the kubelet version linked and exit")
		images       stringList
		annotations  stringList
	)
	fs.Var(&images, "image", "image to look up (repeatable, looked up in order)")
	fs.Var(&annotations, "service-account-annotation", "KEY=VALUE annotation on the service account (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "harness: "+format+"\n", a...)
		return exitUsage
	}
	if *version {
		fmt.Fprintln(stdout, kubeletVersion())
		return exitOK
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments: %q", fs.Args())
	}
	if *configPath == "" || *binDir == "" {
		return usage("--config and --bin-dir are required")
	}
	if *repeat < 1 {
		return usage("--repeat must be >= 1")
	}
	saAnnotations := map[string]string{}
	for _, a := range annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return usage("--service-account-annotation %q: want KEY=VALUE", a)
		}
		saAnnotations[k] = v
	}

	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	if err := klogFlags.Set("v", fmt.Sprint(*verbosity)); err != nil {
		return usage("-v: %v", err)
	}

	// Feature gates, as `kubelet --feature-gates` would set them. Service account tokens for
	// credential providers: alpha (off) in 1.33, beta (on) from 1.34; on in every minor here.
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(map[string]bool{
		string(features.KubeletServiceAccountTokenForCredentialProviders): true,
	}); err != nil {
		return usage("setting harness feature gates: %v", err)
	}
	if *extraGates != "" {
		if err := utilfeature.DefaultMutableFeatureGate.Set(*extraGates); err != nil {
			return usage("--feature-gates: %v", err)
		}
	}
	klog.V(1).InfoS("kubelet credential provider harness", "kubernetes", kubeletVersion(),
		"KubeletServiceAccountTokenForCredentialProviders", utilfeature.DefaultFeatureGate.Enabled(features.KubeletServiceAccountTokenForCredentialProviders),
		"KubeletEnsureSecretPulledImages", utilfeature.DefaultFeatureGate.Enabled(features.KubeletEnsureSecretPulledImages))

	// Fakes for what the kubelet passes in: tokenManager.GetServiceAccountToken
	// and the service account getter (an API/informer read in the kubelet).
	getServiceAccount := func(namespace, name string) (*corev1.ServiceAccount, error) {
		klog.V(2).InfoS("fake GetServiceAccount", "namespace", namespace, "name", name)
		if namespace != *podNamespace || name != *saName {
			return nil, apierrors.NewNotFound(corev1.Resource("serviceaccounts"), name)
		}
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
			Namespace:   namespace,
			Name:        name,
			UID:         types.UID(*saUID),
			Annotations: saAnnotations,
		}}, nil
	}
	getServiceAccountToken := func(namespace, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
		klog.V(2).InfoS("fake GetServiceAccountToken", "namespace", namespace, "name", name,
			"audiences", tr.Spec.Audiences, "boundObjectRef", tr.Spec.BoundObjectRef)
		if namespace != *podNamespace || name != *saName {
			return nil, apierrors.NewNotFound(corev1.Resource("serviceaccounts"), name)
		}
		out := tr.DeepCopy()
		out.Status = authenticationv1.TokenRequestStatus{
			Token:               *saToken,
			ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Hour)),
		}
		return out, nil
	}

	// Same call (and same validation) as kuberuntime.NewKubeGenericRuntimeManager.
	if err := credentialproviderplugin.RegisterCredentialProviderPlugins(*configPath, *binDir, getServiceAccountToken, getServiceAccount); err != nil {
		writeJSON(stdout, errorLine{Error: "registration: " + err.Error()})
		return exitRegistration
	}

	for round := 1; round <= *repeat; round++ {
		for _, image := range images {
			writeJSON(stdout, lookup(round, image, *podNamespace, *podName, *podUID, *saName))
		}
	}
	return exitOK
}

// lookup mirrors pkg/kubelet/images imageManager (EnsureImageExists /
// makeLookupPullCredentialsFunc): normalise the image with parsers.ParseImageName,
// build the per-pod external keyring, wrap it with MakeDockerKeyring (no pull
// secrets here) and Lookup(repoToPull). The kubelet also unions in the node's
// docker config keyring (credentialprovider.NewDefaultDockerKeyring); that is
// deliberately left out so host ~/.docker/config.json files cannot leak in.
func lookup(round int, image, podNamespace, podName, podUID, saName string) lookupLine {
	line := lookupLine{Round: round, Image: image, Credentials: []credentialLine{}}
	repoToPull, _, _, err := parsers.ParseImageName(image)
	if err != nil {
		line.Error = err.Error()
		return line
	}
	external := credentialproviderplugin.NewExternalCredentialProviderDockerKeyring(podNamespace, podName, podUID, saName)
	keyring, err := credentialprovidersecrets.MakeDockerKeyring(nil, credentialprovider.UnionDockerKeyring{external})
	if err != nil {
		line.Error = err.Error()
		return line
	}
	creds, found := keyring.Lookup(repoToPull)
	line.Found = found
	for _, c := range creds {
		line.Credentials = append(line.Credentials, credentialLine{
			Username: c.Username,
			Password: c.Password,
		})
	}
	return line
}

// kubeletVersion is the k8s.io/kubernetes version linked, as the go.mod built with pins it.
func kubeletVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/kubernetes" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Fprintf(w, "%s\n", b)
}
