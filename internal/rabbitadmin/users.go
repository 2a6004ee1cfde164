package rabbitadmin

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"

	"github.com/rabbitmq-esm/rabbitmq-esm/contract"
)

// CloneSuffix names the second user of a role: rotation alternates between <name> and
// <name>-clone, which have the same grant (docs/broker-users.md, "Rotation").
const CloneSuffix = contract.UserCloneSuffix

// Alternate is the other user of user's pair: name and name-clone.
func Alternate(user string) string {
	if base, ok := strings.CutSuffix(user, CloneSuffix); ok {
		return base
	}
	return user + CloneSuffix
}

// GetPermissions returns user's permissions in vhost, and whether it has any there.
func (c *Client) GetPermissions(ctx context.Context, vhost, user string) (Permissions, bool, error) {
	var p Permissions
	code, err := c.do(ctx, fmt.Sprintf("reading the permissions of user %q in virtual host %q", user, vhost), http.MethodGet,
		"api/permissions/"+esc(vhost)+"/"+esc(user), nil, &p, nil, http.StatusNotFound)
	return p, err == nil && code != http.StatusNotFound, err
}

// PasswordMatches tells whether user exists and the broker holds password for it, by hashing
// password with the salt of the stored hash as RabbitMQ does (base64 of a 4-byte salt and
// hash(salt ++ password), https://www.rabbitmq.com/docs/passwords#computing-password-hash).
// It opens no connection, so that checking a user's password changes nothing on the broker.
func (c *Client) PasswordMatches(ctx context.Context, user, password string) (bool, error) {
	r, found, err := c.user(ctx, user)
	if err != nil || !found {
		return false, err
	}
	var h hash.Hash
	switch r.HashingAlgorithm {
	case "rabbit_password_hashing_sha256":
		h = sha256.New()
	case "rabbit_password_hashing_sha512":
		h = sha512.New()
	default:
		// rabbit_password_hashing_md5 (pre-3.6 users) and anything newer: unknown, so "differs",
		// and the caller sets the password again.
		return false, nil
	}
	stored, decodeErr := base64.StdEncoding.DecodeString(r.PasswordHash)
	if decodeErr != nil || len(stored) != 4+h.Size() {
		return false, nil //nolint:nilerr // not a hash of the known form: "differs", and the caller sets the password again
	}
	h.Write(stored[:4])
	h.Write([]byte(password))
	return subtle.ConstantTimeCompare(h.Sum(nil), stored[4:]) == 1, nil
}

// SetPassword replaces user's password and keeps its tags: the API's PUT replaces both.
func (c *Client) SetPassword(ctx context.Context, user, password string) error {
	u, found, err := c.GetUser(ctx, user)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("setting the password of user %q: no such user", user)
	}
	return c.PutUser(ctx, user, password, u.Tags)
}

// Authenticates tells whether the broker accepts user's password on the management API
// (GET /api/whoami). Only a user with a management tag gets in: for one without, the answer
// is false whatever the password.
func (c *Client) Authenticates(ctx context.Context, user, password string) (bool, error) {
	as := *c
	as.username, as.password = user, password
	code, err := as.do(ctx, fmt.Sprintf("logging in as %q", user), http.MethodGet, "api/whoami", nil, nil, nil, http.StatusUnauthorized)
	if err != nil {
		return false, err
	}
	return code != http.StatusUnauthorized, nil
}

// Ensured is what EnsureUserState changed.
type Ensured struct {
	Created, PasswordSet, TagsSet, PermissionsSet bool
	// ConnectionsClosed counts the connections closed because the permissions changed: the
	// broker caches permission checks per channel, so only a new connection sees the change.
	ConnectionsClosed int
}

// Changed tells whether anything changed.
func (e Ensured) Changed() bool {
	return e.Created || e.PasswordSet || e.TagsSet || e.PermissionsSet || e.ConnectionsClosed > 0
}

// EnsureUserState makes user exist in vhost with exactly g and, unless password is "", that
// password; it changes only what differs, so that a second call changes nothing. A user whose
// permissions changed has its connections closed with reason.
func (c *Client) EnsureUserState(ctx context.Context, vhost, user, password string, g Grant, reason string) (Ensured, error) {
	var e Ensured
	u, found, err := c.GetUser(ctx, user)
	if err != nil {
		return e, err
	}
	tags := slices.Clone(g.Tags)
	slices.Sort(tags)
	have := slices.Clone(u.Tags)
	slices.Sort(have)
	switch {
	case !found:
		if password == "" {
			return e, fmt.Errorf("user %q does not exist and no password was given to create it", user)
		}
		if err := c.PutUser(ctx, user, password, g.Tags); err != nil {
			return e, err
		}
		e.Created = true
	default:
		if password != "" {
			same, err := c.PasswordMatches(ctx, user, password)
			if err != nil {
				return e, err
			}
			if !same {
				if err := c.PutUser(ctx, user, password, g.Tags); err != nil {
					return e, err
				}
				e.PasswordSet, e.TagsSet = true, !slices.Equal(tags, have)
			}
		}
		if !e.PasswordSet && !slices.Equal(tags, have) {
			if err := c.SetTags(ctx, user, g.Tags); err != nil {
				return e, err
			}
			e.TagsSet = true
		}
	}
	p, hasAny, err := c.GetPermissions(ctx, vhost, user)
	if err != nil {
		return e, err
	}
	if hasAny && p == g.Permissions {
		return e, nil
	}
	if err := c.SetPermissions(ctx, vhost, user, g.Permissions); err != nil {
		return e, err
	}
	e.PermissionsSet = true
	if !e.Created {
		n, err := c.CloseUserConnections(ctx, user, reason)
		e.ConnectionsClosed = n
		if err != nil {
			return e, err
		}
	}
	return e, nil
}

// EnsureRole is EnsureUserState with role's grant on o (PermissionsFor): what the provisioner
// does for each of the stack's users, and what a test does to log in as one.
func (c *Client) EnsureRole(ctx context.Context, vhost string, role Role, o Objects, user, password, reason string) (Ensured, error) {
	g, err := PermissionsFor(role, o)
	if err != nil {
		return Ensured{}, err
	}
	return c.EnsureUserState(ctx, vhost, user, password, g, reason)
}
