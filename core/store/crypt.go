package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// sealer encrypts and authenticates blobs with AES-256-GCM. A nil *sealer
// passes data through.
type sealer struct{ aead cipher.AEAD }

// keyCheck is sealed into the manifest, so a wrong key is reported at open
// instead of as damage in the first record read.
const keyCheck = "oxvec key check"

// LoadKey reads a 32-byte key given as text (64 hex or 44 base64
// characters), from a file (raw 32 bytes, or text) or from an environment
// variable (text). At most one source may be given. The environment is the
// process's as the Go runtime saw it when the library loaded: a caller that
// sets the variable later must read it itself and pass the text.
func LoadKey(key, file, env string) ([]byte, error) {
	given := 0
	for _, x := range []string{key, file, env} {
		if x != "" {
			given++
		}
	}
	if given > 1 {
		return nil, fmt.Errorf("%w: give the key one way: key, key_file or key_env", errs.InvalidArgument)
	}
	var text []byte
	switch {
	case key != "":
		text = []byte(key)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%w: reading the key file: %v", errs.InvalidArgument, err)
		}
		if len(b) == 32 {
			return b, nil
		}
		text = b
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return nil, fmt.Errorf("%w: the environment variable %s that should hold the key is not set", errs.InvalidArgument, env)
		}
		text = []byte(v)
	default:
		return nil, nil
	}
	s := strings.TrimSpace(string(text))
	if k, err := hex.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	return nil, fmt.Errorf("%w: a key must be 32 bytes: raw, 64 hex characters or base64 (make one with: head -c 32 /dev/urandom | base64)", errs.InvalidArgument)
}

func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		return nil, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errs.InvalidArgument, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead}, nil
}

// seal returns nonce || ciphertext; ad is authenticated but not encrypted.
func (s *sealer) seal(plain, ad []byte) []byte {
	if s == nil {
		return plain
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // the OS random source failing is not recoverable
	}
	return s.aead.Seal(nonce, nonce, plain, ad)
}

func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	if s == nil {
		return sealed, nil
	}
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: sealed block too short", errs.Corrupt)
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, errWrongKey
	}
	return plain, nil
}

var errWrongKey = fmt.Errorf("%w: decryption failed: wrong key, or the data was altered", errs.InvalidArgument)
