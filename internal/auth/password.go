package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost settings of an argon2id password hash. They are
// stored in every hash, so raising them later does not lock anyone out.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// DefaultArgon2 is OWASP's first recommended argon2id setting (46 MiB,
// one pass, one lane): about 55 ms per sign-in on a shared 2-core
// server, nothing to a moderator and a great deal to someone guessing,
// while a burst of sign-ins (rate limited per IP) cannot take much memory.
var DefaultArgon2 = Argon2Params{Memory: 46 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// MinPasswordLen is the shortest password HashPassword accepts, in bytes.
const MinPasswordLen = 10

// MaxPasswordLen bounds a password so that hashing cannot be made slow on
// purpose with a huge one.
const MaxPasswordLen = 1024

// ErrPasswordLength reports a password shorter than MinPasswordLen or longer
// than MaxPasswordLen.
var ErrPasswordLength = fmt.Errorf("a password must be %d to %d characters long", MinPasswordLen, MaxPasswordLen)

// HashPassword returns the argon2id hash of password in the PHC string
// format: $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>, salt and hash in
// unpadded standard base64.
func HashPassword(password string, p Argon2Params) (string, error) {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", ErrPasswordLength
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash made by
// HashPassword, comparing in constant time. A malformed hash is an error.
func CheckPassword(hash, password string) (bool, error) {
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// dummyHash is checked against when a sign-in names an unknown address, so
// that such a sign-in takes as long as one with a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("parley-dummy-password", DefaultArgon2)
	return h
})

// CheckNoPassword spends the time of a password check for an unknown
// account and returns false.
func CheckNoPassword(password string) bool {
	CheckPassword(dummyHash(), password)
	return false
}

var errBadHash = errors.New("not an argon2id password hash")

func parseHash(hash string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory < 8 || p.Memory > 4<<20 || p.Time < 1 || p.Time > 100 || p.Threads < 1 {
		return p, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}
