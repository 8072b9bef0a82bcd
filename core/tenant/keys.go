package tenant

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/scrypt"

	"github.com/oxvec/oxvec/core/errs"
)

// An API key reads "oxv_<id>_<secret>": the id (16 hex digits) finds the
// key's record, the secret (32 random bytes, base64url) proves it. Only the
// id, a random salt and scrypt(secret, salt) are stored, so the catalog
// holds nothing that opens a session; the secret is shown once, when the
// key is made.

const (
	keyPrefix = "oxv_"
	// DefaultKeyCost is log2 of scrypt's N (r=8, p=1): about 50-100 ms a
	// hash on a current core, paid once per session open.
	DefaultKeyCost = 15
	secretBytes    = 32
)

// newKey makes a key: the record to store and the string to hand out.
func newKey(cost int) (*keyRec, string, error) {
	secret := make([]byte, secretBytes)
	salt := make([]byte, 16)
	rand.Read(secret)
	rand.Read(salt)
	s := base64.RawURLEncoding.EncodeToString(secret)
	h, err := hashSecret(s, salt, cost)
	if err != nil {
		return nil, "", err
	}
	k := &keyRec{ID: newID(), Salt: hex.EncodeToString(salt), Hash: hex.EncodeToString(h), CostLog: cost}
	return k, keyPrefix + k.ID + "_" + s, nil
}

func hashSecret(secret string, salt []byte, cost int) ([]byte, error) {
	if cost < 1 || cost > 20 {
		return nil, fmt.Errorf("%w: key cost (log2 of scrypt's N) must be in 1..20, got %d", errs.InvalidArgument, cost)
	}
	h, err := scrypt.Key([]byte(secret), salt, 1<<cost, 8, 1, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: scrypt: %v", errs.Internal, err)
	}
	return h, nil
}

// parseKey splits an API key into its id and secret.
func parseKey(key string) (id, secret string, ok bool) {
	rest, found := strings.CutPrefix(key, keyPrefix)
	if !found {
		return "", "", false
	}
	id, secret, found = strings.Cut(rest, "_")
	if !found || len(id) != 16 || secret == "" {
		return "", "", false
	}
	return id, secret, true
}

// verify says whether secret is the key's, comparing hashes in constant
// time.
func (k *keyRec) verify(secret string) bool {
	salt, err1 := hex.DecodeString(k.Salt)
	want, err2 := hex.DecodeString(k.Hash)
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := hashSecret(secret, salt, k.CostLog)
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// errBadKey is the one refusal of a key that does not open a session:
// unknown, wrong, revoked and expired keys are told apart only in the
// message, never by a different class.
func errBadKey(why string) error {
	return fmt.Errorf("%w: the API key is %s", errs.PermissionDenied, why)
}
