// Command audience holds the question `kubelet-credential-sim doctor` asks the API server about a
// service account audience against the kube-apiserver's own code. For each case it reads from
// stdin (one JSON document: the SelfSubjectAccessReview doctor sends, a node, a pod's service
// account and audience, and RBAC objects), it
//
//   - admits the kubelet's TokenRequest for that service account and audience through the real
//     NodeRestriction admission plugin (ServiceAccountNodeAudienceRestriction on, a pod on the
//     node that names no audience), with the real RBAC authorizer over the RBAC objects, and
//     records what the plugin asked the authorizer and what it decided;
//   - turns doctor's review into authorizer attributes as the SelfSubjectAccessReview REST
//     handler does (v1 to internal conversion, validation, ResourceAttributesFrom), and asks the
//     same RBAC authorizer.
//
// Output: one JSON document. Built from go.mod's kubelet minor only: the plugin's question is the
// same from 1.33, where the restriction went beta, to 1.37.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	authenticationapi "k8s.io/kubernetes/pkg/apis/authentication"
	authorizationapi "k8s.io/kubernetes/pkg/apis/authorization"
	authorizationapiv1 "k8s.io/kubernetes/pkg/apis/authorization/v1"
	authorizationvalidation "k8s.io/kubernetes/pkg/apis/authorization/validation"
	"k8s.io/kubernetes/pkg/auth/nodeidentifier"
	_ "k8s.io/kubernetes/pkg/features" // registers the kube feature gates, with their defaults
	authorizationutil "k8s.io/kubernetes/pkg/registry/authorization/util"
	rbacvalidation "k8s.io/kubernetes/pkg/registry/rbac/validation"
	"k8s.io/kubernetes/plugin/pkg/admission/noderestriction"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
)

type input struct {
	Review         json.RawMessage   `json:"review"`
	Node           string            `json:"node"`
	Namespace      string            `json:"namespace"`
	ServiceAccount string            `json:"serviceAccount"`
	Audience       string            `json:"audience"`
	RBAC           []json.RawMessage `json:"rbac"`
}

type record struct {
	Verb            string `json:"verb"`
	APIGroup        string `json:"apiGroup"`
	APIVersion      string `json:"apiVersion"`
	Resource        string `json:"resource"`
	Subresource     string `json:"subresource"`
	Namespace       string `json:"namespace"`
	Name            string `json:"name"`
	ResourceRequest bool   `json:"resourceRequest"`
	User            string `json:"user"`
}

type output struct {
	// What NodeRestriction asked the authorizer (none: it did not ask), and whether it admitted.
	Asked    []record `json:"asked"`
	Admitted bool     `json:"admitted"`
	Refusal  string   `json:"refusal,omitempty"`
	// Doctor's review as the API server reads it, and RBAC's answer.
	Invalid string `json:"invalid,omitempty"`
	Review  record `json:"review"`
	Allowed bool   `json:"allowed"`
}

type recorder struct {
	next  authorizer.UnconditionalAuthorizer
	asked []record
}

func (r *recorder) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	r.asked = append(r.asked, recordOf(a))
	return r.next.Authorize(ctx, a)
}

func recordOf(a authorizer.Attributes) record {
	return record{
		Verb: a.GetVerb(), APIGroup: a.GetAPIGroup(), APIVersion: a.GetAPIVersion(),
		Resource: a.GetResource(), Subresource: a.GetSubresource(), Namespace: a.GetNamespace(),
		Name: a.GetName(), ResourceRequest: a.IsResourceRequest(), User: a.GetUser().GetName(),
	}
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("reading the case: %v", err)
	}
	authz := rbacAuthorizer(in.RBAC)
	node := &user.DefaultInfo{
		Name:   "system:node:" + in.Node,
		Groups: []string{"system:nodes", "system:authenticated"},
	}
	var out output

	// The kubelet's TokenRequest, through the real plugin.
	rec := &recorder{next: authz}
	if err := admit(in, node, rec); err != nil {
		out.Refusal = err.Error()
	} else {
		out.Admitted = true
	}
	out.Asked = rec.asked
	if out.Asked == nil {
		out.Asked = []record{}
	}

	// Doctor's review, as the SelfSubjectAccessReview handler reads it.
	var review authorizationv1.SelfSubjectAccessReview
	if err := json.Unmarshal(in.Review, &review); err != nil {
		fail("the review is not a SelfSubjectAccessReview: %v", err)
	}
	var internal authorizationapi.SelfSubjectAccessReview
	if err := authorizationapiv1.Convert_v1_SelfSubjectAccessReview_To_authorization_SelfSubjectAccessReview(&review, &internal, nil); err != nil {
		fail("converting the review: %v", err)
	}
	if errs := authorizationvalidation.ValidateSelfSubjectAccessReview(&internal); len(errs) > 0 {
		out.Invalid = errs.ToAggregate().Error()
	} else if internal.Spec.ResourceAttributes == nil {
		out.Invalid = "no resourceAttributes"
	} else {
		attrs := authorizationutil.ResourceAttributesFrom(node, *internal.Spec.ResourceAttributes)
		out.Review = recordOf(attrs)
		decision, _, _ := authz.Authorize(context.Background(), attrs)
		out.Allowed = decision == authorizer.DecisionAllow
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("writing: %v", err)
	}
}

// admit runs the kubelet's TokenRequest for a pod on the node through NodeRestriction.
func admit(in input, node user.Info, authz authorizer.UnconditionalAuthorizer) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: in.Namespace, UID: types.UID("33333333-3333-4333-8333-333333333333")},
		Spec:       corev1.PodSpec{NodeName: in.Node, ServiceAccountName: in.ServiceAccount},
	}
	factory := informers.NewSharedInformerFactory(fake.NewSimpleClientset(), 0)
	plugin := noderestriction.NewPlugin(nodeidentifier.NewDefaultNodeIdentifier())
	plugin.InspectFeatureGates(utilfeature.DefaultFeatureGate)
	plugin.SetExternalKubeInformerFactory(factory)
	plugin.SetUnconditionalAuthorizer(authz)
	if err := plugin.ValidateInitialization(); err != nil {
		fail("NodeRestriction: %v", err)
	}
	if err := factory.Core().V1().Pods().Informer().GetIndexer().Add(pod); err != nil {
		fail("adding the pod: %v", err)
	}
	request := &authenticationapi.TokenRequest{
		Spec: authenticationapi.TokenRequestSpec{
			Audiences: []string{in.Audience},
			BoundObjectRef: &authenticationapi.BoundObjectReference{
				Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID,
			},
		},
	}
	attributes := admission.NewAttributesRecord(
		request, nil,
		authenticationapi.Kind("TokenRequest").WithVersion("v1"),
		in.Namespace, in.ServiceAccount,
		corev1.SchemeGroupVersion.WithResource("serviceaccounts"), "token",
		admission.Create, &metav1.CreateOptions{}, false, node,
	)
	return plugin.Admit(context.Background(), attributes, nil)
}

// rbacAuthorizer is the real RBAC authorizer over the given objects.
func rbacAuthorizer(objects []json.RawMessage) authorizer.UnconditionalAuthorizer {
	var roles []*rbacv1.Role
	var roleBindings []*rbacv1.RoleBinding
	var clusterRoles []*rbacv1.ClusterRole
	var clusterRoleBindings []*rbacv1.ClusterRoleBinding
	for _, raw := range objects {
		var meta metav1.TypeMeta
		if err := json.Unmarshal(raw, &meta); err != nil {
			fail("an RBAC object: %v", err)
		}
		var err error
		switch meta.Kind {
		case "Role":
			err = decodeInto(raw, &roles)
		case "RoleBinding":
			err = decodeInto(raw, &roleBindings)
		case "ClusterRole":
			err = decodeInto(raw, &clusterRoles)
		case "ClusterRoleBinding":
			err = decodeInto(raw, &clusterRoleBindings)
		default:
			fail("not an RBAC kind: %q", meta.Kind)
		}
		if err != nil {
			fail("a %s: %v", meta.Kind, err)
		}
	}
	_, static := rbacvalidation.NewTestRuleResolver(roles, roleBindings, clusterRoles, clusterRoleBindings)
	return rbac.New(static, static, static, static)
}

// decodeInto appends the object raw holds to list.
func decodeInto[T any](raw json.RawMessage, list *[]*T) error {
	object := new(T)
	if err := json.Unmarshal(raw, object); err != nil {
		return err
	}
	*list = append(*list, object)
	return nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "audience: "+format+"\n", args...)
	os.Exit(64)
}
