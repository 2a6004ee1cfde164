package standin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil/rpcerror"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin/cloud"
)

// Kind is how the stand-in treats one resource type: the real provider's schema facts the
// engine's decisions depend on, and what AWS does on create, update and delete.
type Kind struct {
	// Args is the SDK's argument type; its tags are the inputs the type accepts.
	Args any
	// ForceNew inputs replace the resource when they change (the provider's ForceNew).
	ForceNew []string
	// Computed inputs are filled by the provider when unset: leaving them out is no change.
	Computed []string
	// Suppressed inputs never show a diff (the provider suppresses it).
	Suppressed []string
	// Outputs are computed at creation; a preview shows them unknown.
	Outputs []string
	// AutoName is the input named <resource name>-<7 hex> when unset; AutoNameMax its limit.
	AutoName    string
	AutoNameMax int
	// Required inputs must be present.
	Required []string
	// Defaults are the schema's Default values: an input left out takes its default in Check,
	// as the provider plans with it (so leaving it out is no change against an output that holds it).
	Defaults map[string]any
	// Validate returns a failure per invalid input (property, reason).
	Validate func(news resource.PropertyMap) []plugin.CheckFailure
	// Create, Update and Delete act on the account. Update and Delete may be nil (no effect
	// beyond the record). Create must set op.ID.
	Create func(op *Op) error
	Update func(op *Op, old *cloud.Resource) error
	Delete func(op *Op, old *cloud.Resource) error
	// Local kinds do not live in the account (random values).
	Local bool
	// PlannedOnFailure: when Update fails, the engine records the planned state anyway, with
	// the failure as an initialization error. Through pulumi-terraform-bridge this is every
	// SDKv2 resource that does not set d.Partial: the SDK returns the planned values as the new
	// state even when Update fails (hashicorp/terraform-plugin-sdk#476), and the bridge's Update
	// returns that state in an ErrorResourceInitFailed (pkg/tfbridge/provider.go,
	// initializationError). The engine then forces an update on the next deployment, which
	// finds no change. Kinds opt in as their refusals are checked against this.
	PlannedOnFailure bool
	// Refresh is what the provider's Read reports for a resource that exists (nil: the state
	// as it is).
	Refresh func(r *cloud.Resource, state resource.PropertyMap) resource.PropertyMap

	inputs map[resource.PropertyKey]bool
}

// Op is one create, update or delete in progress.
type Op struct {
	St     *cloud.State
	Name   string
	Type   string
	ID     string
	Inputs resource.PropertyMap
	// Olds are the outputs the engine's state holds (updates only): what the provider's plan
	// compares the new inputs with.
	Olds resource.PropertyMap
	// Out are the outputs AWS computes, plain; SecretOut marks secret ones.
	Out       map[string]any
	SecretOut map[string]bool
	// Keep are what AWS holds where it differs from what the provider reports (the provider's
	// planned values, pending modifications): stored in the account over the inputs and
	// outputs, never returned to the engine.
	Keep map[string]any
	Now  time.Time
	// Linger is how long Lambda's interfaces outlive their owner.
	Linger time.Duration
}

// Set records a computed output.
func (op *Op) Set(key string, v any) { op.Out[key] = v }

// Invoke answers one data source.
type Invoke struct {
	// Args is the SDK's argument type of the data source.
	Args any
	Call func(st *cloud.State, args resource.PropertyMap) (map[string]any, error)

	inputs map[resource.PropertyKey]bool
}

// Provider is a stand-in provider plugin: the kinds and data sources of one package.
type Provider struct {
	plugin.UnimplementedProvider
	// Package and Version are what the plugin reports: the package and version the program pins.
	Package, Version string
	Kinds            map[string]*Kind
	Invokes          map[string]*Invoke
	// CheckConfig validates the provider's configuration (nil: anything goes).
	CheckProviderConfig func(news resource.PropertyMap) []plugin.CheckFailure

	store       *cloud.Store
	initOnce    sync.Once
	prepareOnce sync.Once
}

// prepare reads the inputs of every kind and data source from the SDK's types, once.
func (p *Provider) prepare() {
	p.prepareOnce.Do(func() {
		for _, k := range p.Kinds {
			k.inputs = InputKeys(k.Args)
		}
		for _, inv := range p.Invokes {
			inv.inputs = InputKeys(inv.Args)
		}
	})
}

// Serve runs the provider as a plugin process.
func Serve(p *Provider) error {
	p.prepare()
	return provider.Main(p.Package, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return plugin.NewProviderServer(p), nil
	})
}

func (p *Provider) account() (*cloud.Store, error) {
	var err error
	p.initOnce.Do(func() { p.store, err = cloud.OpenFromEnv() })
	if err == nil && p.store == nil {
		err = fmt.Errorf("%s is not set", cloud.EnvDir)
	}
	return p.store, err
}

// Handshake accepts secrets and resource references, as the real providers do.
func (p *Provider) Handshake(context.Context, plugin.ProviderHandshakeRequest) (*plugin.ProviderHandshakeResponse, error) {
	return &plugin.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

// GetPluginInfo reports the pinned version.
func (p *Provider) GetPluginInfo(context.Context) (plugin.PluginInfo, error) {
	v := semver.MustParse(p.Version)
	return plugin.PluginInfo{Version: &v}, nil
}

// CheckConfig validates the provider's configuration.
func (p *Provider) CheckConfig(_ context.Context, req plugin.CheckConfigRequest) (plugin.CheckConfigResponse, error) {
	var failures []plugin.CheckFailure
	if p.CheckProviderConfig != nil {
		failures = p.CheckProviderConfig(req.News)
	}
	return plugin.CheckConfigResponse{Properties: req.News, Failures: failures}, nil
}

// DiffConfig reports no change: the stand-in has one account.
func (p *Provider) DiffConfig(context.Context, plugin.DiffConfigRequest) (plugin.DiffConfigResponse, error) {
	return plugin.DiffResult{Changes: plugin.DiffNone}, nil
}

// Configure accepts the configuration CheckConfig validated.
func (p *Provider) Configure(context.Context, plugin.ConfigureRequest) (plugin.ConfigureResponse, error) {
	return plugin.ConfigureResponse{}, nil
}

func (p *Provider) kind(typ string) (*Kind, error) {
	p.prepare()
	if k, ok := p.Kinds[typ]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("stand-in %s %s: resource type %s is not modelled; model it in internal/testsupport/standin before the program uses it",
		p.Package, p.Version, typ)
}

// Check validates inputs as the real provider does and fills the auto-name.
func (p *Provider) Check(_ context.Context, req plugin.CheckRequest) (plugin.CheckResponse, error) {
	k, err := p.kind(string(req.Type))
	if err != nil {
		return plugin.CheckResponse{}, err
	}
	news := req.News.Copy()
	var failures []plugin.CheckFailure
	for _, key := range UnknownKeys(news, k.inputs) {
		failures = append(failures, plugin.CheckFailure{Property: resource.PropertyKey(key),
			Reason: fmt.Sprintf("%s is not an input of %s", key, req.Type)})
	}
	for _, key := range k.Required {
		if !Has(news, key) {
			failures = append(failures, plugin.CheckFailure{Property: resource.PropertyKey(key),
				Reason: fmt.Sprintf("Missing required property '%s'", key)})
		}
	}
	for key, v := range k.Defaults {
		if !Has(news, key) {
			news[resource.PropertyKey(key)] = resource.NewPropertyValue(v)
		}
	}
	if k.AutoName != "" {
		key := resource.PropertyKey(k.AutoName)
		if _, set := news[key]; !set && !Has(news, k.AutoName+"Prefix") {
			if old, ok := req.Olds[key]; ok {
				news[key] = old
			} else {
				news[key] = resource.NewStringProperty(req.Name + "-" + randomHex(req.RandomSeed, string(req.URN), 7))
			}
		}
		if name := Str(news, k.AutoName); k.AutoNameMax > 0 && len(name) > k.AutoNameMax {
			failures = append(failures, plugin.CheckFailure{Property: key,
				Reason: fmt.Sprintf("expected length of %s to be in the range (1 - %d), got %s", k.AutoName, k.AutoNameMax, name)})
		}
	}
	if k.Validate != nil {
		failures = append(failures, k.Validate(news)...)
	}
	return plugin.CheckResponse{Properties: news, Failures: failures}, nil
}

// Diff compares the new inputs with the state, as the real (Terraform-based) provider plans:
// an input left out is no change when the provider computes it, and a removal otherwise.
func (p *Provider) Diff(_ context.Context, req plugin.DiffRequest) (plugin.DiffResponse, error) {
	k, err := p.kind(string(req.Type))
	if err != nil {
		return plugin.DiffResult{}, err
	}
	candidates := map[resource.PropertyKey]bool{}
	for key := range req.NewInputs {
		candidates[key] = true
	}
	for key := range req.OldOutputs {
		if k.inputs[key] {
			candidates[key] = true
		}
	}
	var changed, replaces []resource.PropertyKey
	for _, key := range SortedKeys(candidates) {
		if slices.Contains(req.IgnoreChanges, string(key)) || slices.Contains(k.Suppressed, string(key)) || strings.HasPrefix(string(key), "__") {
			continue
		}
		nv, inNew := req.NewInputs[key]
		if def, ok := k.Defaults[string(key)]; ok && (!inNew || nv.IsNull()) {
			nv, inNew = resource.NewPropertyValue(def), true
		}
		ov := req.OldOutputs[key]
		if !inNew || nv.IsNull() {
			if slices.Contains(k.Computed, string(key)) || IsEmpty(ov) {
				continue
			}
		} else if Equal(nv, ov) || (IsEmpty(nv) && IsEmpty(ov)) {
			continue
		}
		changed = append(changed, key)
		if slices.Contains(k.ForceNew, string(key)) {
			replaces = append(replaces, key)
		}
	}
	if len(changed) == 0 {
		return plugin.DiffResult{Changes: plugin.DiffNone}, nil
	}
	return plugin.DiffResult{Changes: plugin.DiffSome, ChangedKeys: changed, ReplaceKeys: replaces}, nil
}

// Create makes the resource in the account (a preview only shows what AWS would compute as
// unknown).
func (p *Provider) Create(_ context.Context, req plugin.CreateRequest) (plugin.CreateResponse, error) {
	k, err := p.kind(string(req.Type))
	if err != nil {
		return plugin.CreateResponse{}, err
	}
	if req.Preview {
		outs := req.Properties.Copy()
		for _, key := range k.Outputs {
			if _, ok := outs[resource.PropertyKey(key)]; !ok {
				outs[resource.PropertyKey(key)] = resource.MakeComputed(resource.NewStringProperty(""))
			}
		}
		return plugin.CreateResponse{Properties: outs, Status: resource.StatusOK}, nil
	}
	op := &Op{Name: req.Name, Type: string(req.Type), Inputs: req.Properties, Out: map[string]any{}, SecretOut: map[string]bool{},
		Keep: map[string]any{}}
	err = p.inAccount(k, op, func() error {
		if err := k.Create(op); err != nil {
			return err
		}
		if op.ID == "" {
			return fmt.Errorf("stand-in %s: create set no id", req.Type)
		}
		p.keep(k, op)
		op.St.Record("create", op.Type, op.ID, op.Name)
		return nil
	})
	if err != nil {
		return plugin.CreateResponse{}, err
	}
	return plugin.CreateResponse{ID: resource.ID(op.ID), Properties: outputs(req.Properties, op), Status: resource.StatusOK}, nil
}

// Update changes the resource in place; computed outputs carry over unless the kind sets them.
func (p *Provider) Update(_ context.Context, req plugin.UpdateRequest) (plugin.UpdateResponse, error) {
	k, err := p.kind(string(req.Type))
	if err != nil {
		return plugin.UpdateResponse{}, err
	}
	op := &Op{Name: req.Name, Type: string(req.Type), ID: string(req.ID), Inputs: req.NewInputs, Olds: req.OldOutputs,
		Out: map[string]any{}, SecretOut: map[string]bool{}, Keep: map[string]any{}}
	// What the provider computed carries over: outputs that are no inputs, and computed
	// inputs the new inputs leave unset (a plan keeps their prior value).
	for key, v := range req.OldOutputs {
		_, given := req.NewInputs[key]
		if !k.inputs[key] || (slices.Contains(k.Computed, string(key)) && !given) {
			op.Out[string(key)] = Plain(v)
			op.SecretOut[string(key)] = v.ContainsSecrets()
		}
	}
	if req.Preview {
		return plugin.UpdateResponse{Properties: outputs(req.NewInputs, op), Status: resource.StatusOK}, nil
	}
	// A refusal keeps what AWS did before it (a provider's update is several API calls, and the
	// calls made before the refused one stay made): the account is saved, the error returned.
	var refused error
	err = p.inAccount(k, op, func() error {
		var old *cloud.Resource
		if !k.Local {
			if old = op.St.Get(op.ID); old == nil {
				return Errorf("ResourceNotFoundException", "%s %s does not exist", req.Type, req.ID)
			}
		}
		if k.Update != nil {
			if err := k.Update(op, old); err != nil {
				op.St.Record("refuse", op.Type, op.ID, err.Error())
				refused = err
				return nil
			}
		}
		p.keep(k, op)
		op.St.Record("update", op.Type, op.ID, op.Name)
		return nil
	})
	if err == nil && refused != nil && k.PlannedOnFailure {
		return plugin.UpdateResponse{}, partialFailure(op.ID, outputs(req.NewInputs, op), refused)
	}
	if err == nil {
		err = refused
	}
	if err != nil {
		return plugin.UpdateResponse{}, err
	}
	return plugin.UpdateResponse{Properties: outputs(req.NewInputs, op), Status: resource.StatusOK}, nil
}

// Delete removes the resource from the account, or fails as AWS would (dependencies).
func (p *Provider) Delete(_ context.Context, req plugin.DeleteRequest) (plugin.DeleteResponse, error) {
	k, err := p.kind(string(req.Type))
	if err != nil {
		return plugin.DeleteResponse{}, err
	}
	op := &Op{Name: req.Name, Type: string(req.Type), ID: string(req.ID), Inputs: req.Inputs, Out: map[string]any{}}
	err = p.inAccount(k, op, func() error {
		var old *cloud.Resource
		if !k.Local {
			if old = op.St.Get(op.ID); old == nil {
				return nil // already gone, as the real provider tolerates
			}
		}
		if k.Delete != nil {
			if err := k.Delete(op, old); err != nil {
				op.St.Record("refuse", op.Type, op.ID, err.Error())
				return err
			}
		}
		delete(op.St.Resources, op.ID)
		op.St.Record("delete", op.Type, op.ID, op.Name)
		return nil
	})
	return plugin.DeleteResponse{Status: resource.StatusOK}, err
}

// Read reports the resource as the state has it while it exists in the account.
func (p *Provider) Read(_ context.Context, req plugin.ReadRequest) (plugin.ReadResponse, error) {
	k, err := p.kind(string(req.Type))
	if err != nil {
		return plugin.ReadResponse{}, err
	}
	exists := true
	var current *cloud.Resource
	if !k.Local {
		store, err := p.account()
		if err != nil {
			return plugin.ReadResponse{}, err
		}
		if err := store.View(func(st *cloud.State) { current = st.Get(string(req.ID)); exists = current != nil }); err != nil {
			return plugin.ReadResponse{}, err
		}
	}
	if !exists {
		return plugin.ReadResponse{ReadResult: plugin.ReadResult{}, Status: resource.StatusOK}, nil
	}
	outs := req.State
	if current != nil && k.Refresh != nil {
		outs = k.Refresh(current, req.State.Copy())
	}
	return plugin.ReadResponse{ReadResult: plugin.ReadResult{ID: req.ID, Inputs: req.Inputs, Outputs: outs}, Status: resource.StatusOK}, nil
}

// Invoke answers a data source from the account.
func (p *Provider) Invoke(_ context.Context, req plugin.InvokeRequest) (plugin.InvokeResponse, error) {
	p.prepare()
	inv, ok := p.Invokes[string(req.Tok)]
	if !ok {
		return plugin.InvokeResponse{}, fmt.Errorf("stand-in %s %s: data source %s is not modelled; model it in internal/testsupport/standin before the program uses it",
			p.Package, p.Version, req.Tok)
	}
	if unknown := UnknownKeys(req.Args, inv.inputs); len(unknown) > 0 {
		return plugin.InvokeResponse{}, fmt.Errorf("%s: unknown arguments %s", req.Tok, strings.Join(unknown, ", "))
	}
	store, err := p.account()
	if err != nil {
		return plugin.InvokeResponse{}, err
	}
	var result map[string]any
	var callErr error
	if err := store.View(func(st *cloud.State) { result, callErr = inv.Call(st, req.Args) }); err != nil {
		return plugin.InvokeResponse{}, err
	}
	if callErr != nil {
		return plugin.InvokeResponse{}, callErr
	}
	return plugin.InvokeResponse{Properties: resource.NewPropertyMapFromMap(result)}, nil
}

// inAccount runs fn with the account locked (local kinds need none).
func (p *Provider) inAccount(k *Kind, op *Op, fn func() error) error {
	op.Now = time.Now()
	if k.Local {
		op.St = &cloud.State{Resources: map[string]*cloud.Resource{}}
		return fn()
	}
	store, err := p.account()
	if err != nil {
		return err
	}
	return store.Update(func(st *cloud.State) error {
		op.St = st
		op.Linger = st.Settings.ENILinger.Duration
		return fn()
	})
}

// keep stores what AWS now holds for the resource.
func (p *Provider) keep(k *Kind, op *Op) {
	if k.Local {
		return
	}
	props := PlainMap(op.Inputs)
	for key, v := range op.Out {
		props[key] = v
	}
	for key, v := range op.Keep {
		props[key] = v
	}
	op.St.Resources[op.ID] = &cloud.Resource{Type: op.Type, ID: op.ID, Props: props}
}

// outputs are the inputs (secrets kept secret) with the computed values over them.
func outputs(inputs resource.PropertyMap, op *Op) resource.PropertyMap {
	outs := inputs.Copy()
	for key, v := range op.Out {
		pv := resource.NewPropertyValue(v)
		if op.SecretOut[key] {
			pv = resource.MakeSecret(pv)
		}
		outs[resource.PropertyKey(key)] = pv
	}
	return outs
}

// partialFailure is a failed update whose planned state the engine records, as
// pulumi-terraform-bridge's initializationError returns it.
func partialFailure(id string, planned resource.PropertyMap, reason error) error {
	props, err := plugin.MarshalProperties(planned, plugin.MarshalOptions{KeepSecrets: true, KeepResources: true})
	if err != nil {
		return fmt.Errorf("%w (and marshalling the planned state: %w)", reason, err)
	}
	return rpcerror.WithDetails(rpcerror.New(codes.Unknown, reason.Error()),
		&pulumirpc.ErrorResourceInitFailed{Id: id, Properties: props, Reasons: []string{reason.Error()}})
}

// randomHex derives n hex digits from the engine's random seed, which is stable for a
// resource across previews and updates, as the real providers' auto-naming is.
func randomHex(seed []byte, salt string, n int) string {
	sum := sha256.Sum256(append(slices.Clone(seed), salt...))
	return hex.EncodeToString(sum[:])[:n]
}

// Hash is a short stable hash of s, for ids derived from content.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:16]
}
