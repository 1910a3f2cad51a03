package parley

import (
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxURLLength is the longest article URL, in bytes, that CanonicalURL
// accepts or returns. Browsers and CDNs cope with longer ones, but no article
// needs more, and the URL is a key in every thread query.
const MaxURLLength = 2048

// trackingParams are query parameters that identify a campaign, a click or a
// share, never an article. The list follows the ones browsers strip on
// navigation (Firefox's query-parameter stripping, Brave's debouncing) and
// ClearURLs, narrowed to the parameters seen on news sites. Names are
// compared case-insensitively.
var trackingParams = map[string]bool{
	// Ad-click identifiers.
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true,
	"wbraid": true, "gad_source": true, "msclkid": true, "yclid": true,
	"twclid": true, "ttclid": true, "li_fat_id": true, "epik": true,
	"srsltid": true, "irclickid": true, "rb_clickid": true,
	// Share and referral markers.
	"igshid": true, "igsh": true, "ref_src": true, "ref_url": true,
	"__twitter_impression": true, "smid": true, "cmp": true, "ocid": true,
	"ncid": true, "sr_share": true, "soc_src": true, "soc_trk": true,
	"_branch_match_id": true, "_branch_referrer": true,
	// Analytics and e-mail campaign tools.
	"_ga": true, "_gl": true, "mc_cid": true, "mc_eid": true, "_hsenc": true,
	"_hsmi": true, "__hssc": true, "__hstc": true, "__hsfp": true,
	"hsctatracking": true, "mkt_tok": true, "_openstat": true, "xtor": true,
	"at_medium": true, "at_campaign": true, "s_cid": true, "vero_id": true,
	"vero_conv": true, "oly_anon_id": true, "oly_enc_id": true, "wickedid": true,
	"_kx": true, "sms_ss": true, "awc": true,
}

// trackingPrefixes are families of tracking parameters: Google Analytics
// (utm_), Matomo/Piwik (pk_, mtm_, piwik_), comScore (ns_) and HubSpot ads
// (hsa_).
var trackingPrefixes = []string{"utm_", "pk_", "mtm_", "piwik_", "ns_", "hsa_"}

// CanonicalURL returns the canonical form of an article URL, so that every
// way a reader can reach one article leads to one thread. ignore lists extra
// query parameters the site strips; an entry ending in '*' is a prefix
// ("ref*"), and names are compared case-insensitively.
//
// The rules, in order:
//
//   - Surrounding white space is trimmed. The URL must be valid UTF-8 without
//     control characters, at most MaxURLLength bytes, absolute, http or
//     https, with a host and without a user name or password.
//   - The fragment is dropped: it addresses a place in the page, not a page.
//     Sites with hash routing must pass the article's real URL.
//   - The scheme and host are lower-cased; a trailing dot on the host is
//     dropped; an internationalised host is converted to its ASCII
//     (punycode) form; an IPv6 address is written in its shortest form.
//   - The default port (:80 for http, :443 for https) is dropped.
//   - http and https are one thread: a URL without an explicit port is
//     written as https, because publishers serve both and readers arrive by
//     either. With an explicit non-default port the scheme is kept, since it
//     is then part of the address (http://localhost:8080 is not https).
//   - In the path, "." and ".." segments are resolved, runs of slashes are
//     collapsed, the trailing slash is dropped ("/a/b/" is "/a/b", the root
//     is "/"), ";jsessionid=…" is removed, percent-escapes of unreserved
//     characters are decoded and the others are upper-cased. The path keeps
//     its case.
//   - In the query, tracking parameters (utm_*, fbclid, gclid, …) and the
//     site's ignored parameters are removed, empty pairs are dropped, "k=" is
//     written "k", every name and value is re-escaped the same way, and the
//     pairs are sorted by name, keeping the order of repeated names. An empty
//     query leaves no "?".
//
// CanonicalURL is idempotent: the canonical form of a canonical URL is
// itself. Errors are *Error with code EInvalid.
func CanonicalURL(raw string, ignore []string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", Errorf(EInvalid, "URL is empty")
	case len(s) > MaxURLLength:
		return "", Errorf(EInvalid, "URL is longer than %d bytes", MaxURLLength)
	case !utf8.ValidString(s):
		return "", Errorf(EInvalid, "URL is not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", Errorf(EInvalid, "URL contains control characters")
	}

	u, err := url.Parse(fixPercents(s))
	if err != nil {
		return "", Errorf(EInvalid, "URL cannot be parsed")
	}
	switch {
	case u.Scheme == "":
		return "", Errorf(EInvalid, "URL is not absolute: it must start with http:// or https://")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", Errorf(EInvalid, "URL scheme must be http or https")
	case u.Opaque != "":
		return "", Errorf(EInvalid, "URL is not absolute: it must start with http:// or https://")
	case u.User != nil:
		return "", Errorf(EInvalid, "URL must not contain a user name or password")
	}

	host, err := canonicalHost(u.Hostname())
	if err != nil {
		return "", err
	}
	port, err := canonicalPort(u.Port())
	if err != nil {
		return "", err
	}
	scheme := u.Scheme
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port == "" {
		scheme = "https"
	}

	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(canonicalPath(u.EscapedPath()))
	if q := canonicalQuery(u.RawQuery, ignore); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	out := b.String()
	if len(out) > MaxURLLength {
		return "", Errorf(EInvalid, "URL is longer than %d bytes once normalised", MaxURLLength)
	}
	return out, nil
}

// fixPercents escapes each '%' that does not start a valid escape as "%25",
// the way a browser would read it, so that "?discount=100%" is not an error.
func fixPercents(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && !(i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])) {
			b.WriteString("%25")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// canonicalHost lower-cases host, drops a trailing dot, converts an
// internationalised name to punycode and shortens an IPv6 address. It refuses
// anything that is not a plausible DNS name or IP address.
// invalidHost is canonicalHost's error, made only when needed.
func invalidHost() error {
	return Errorf(EInvalid, "URL host is not a valid domain name or IP address")
}

// fullStops maps the ideographic full stops to ".".
var fullStops = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")

func canonicalHost(host string) (string, error) {
	if host == "" {
		return "", Errorf(EInvalid, "URL has no host")
	}
	if !utf8.ValidString(host) {
		return "", invalidHost()
	}
	if strings.Contains(host, ":") { // IPv6: url.Hostname removed the brackets
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", invalidHost()
		}
		return "[" + a.String() + "]", nil
	}
	// The ideographic full stops are label separators in IDNA (UTS #46).
	host = fullStops.Replace(host)
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || len(host) > 253*4 {
		return "", invalidHost()
	}
	labels := strings.Split(host, ".")
	for i, l := range labels {
		if l == "" {
			return "", invalidHost()
		}
		ascii := true
		for _, r := range l {
			switch {
			case r < utf8.RuneSelf:
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
					return "", invalidHost()
				}
			case unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.IsSymbol(r):
				ascii = false
			default:
				return "", invalidHost()
			}
		}
		if !ascii {
			labels[i] = "xn--" + punycode(l)
		}
		if len(labels[i]) > 63 {
			return "", invalidHost()
		}
	}
	host = strings.Join(labels, ".")
	if len(host) > 253 {
		return "", invalidHost()
	}
	return host, nil
}

// canonicalPort validates the port and strips its leading zeros.
func canonicalPort(port string) (string, error) {
	if port == "" {
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", Errorf(EInvalid, "URL port must be a number from 1 to 65535")
	}
	return strconv.Itoa(n), nil
}

// canonicalPath normalises an escaped path: percent-escapes, dot segments,
// empty segments (duplicate and trailing slashes) and ;jsessionid.
func canonicalPath(p string) string {
	var segs []string
	for _, seg := range strings.Split(normalizeEscapes(p, isPathByte), "/") {
		seg = stripSessionID(seg)
		switch seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	return "/" + strings.Join(segs, "/")
}

// stripSessionID removes a Java servlet session parameter (";jsessionid=…")
// from a path segment: it is per visitor, like a tracking parameter.
func stripSessionID(seg string) string {
	i := strings.Index(strings.ToLower(seg), ";jsessionid=")
	if i < 0 {
		return seg
	}
	rest := seg[i+1:]
	if j := strings.IndexByte(rest, ';'); j >= 0 {
		return seg[:i] + rest[j:]
	}
	return seg[:i]
}

// normalizeEscapes decodes the percent-escapes of unreserved characters,
// upper-cases the hex digits of the others, and escapes every byte for which
// keep reports false. s must have valid escapes (see fixPercents).
func normalizeEscapes(s string, keep func(byte) bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			d := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(d) {
				b.WriteByte(d)
			} else {
				writeEscape(&b, d)
			}
			i += 2
			continue
		}
		if keep(c) {
			b.WriteByte(c)
		} else {
			writeEscape(&b, c)
		}
	}
	return b.String()
}

// canonicalQuery removes tracking and ignored parameters from a raw query,
// re-escapes the rest uniformly and sorts it by name.
func canonicalQuery(raw string, ignore []string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ key, enc string }
	var pairs []pair
	for _, p := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(p, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || key == "" || ignored(key, ignore) {
			continue // err1, err2 cannot happen after fixPercents
		}
		enc := url.QueryEscape(key)
		if val != "" {
			enc += "=" + url.QueryEscape(val)
		}
		pairs = append(pairs, pair{url.QueryEscape(key), enc})
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].key < pairs[j].key })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.enc)
	}
	return b.String()
}

// ignored reports whether the query parameter name is a tracking parameter or
// one of the site's ignored parameters.
func ignored(name string, ignore []string) bool {
	name = strings.ToLower(name)
	if trackingParams[name] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, ig := range ignore {
		ig = strings.ToLower(strings.TrimSpace(ig))
		if prefix, ok := strings.CutSuffix(ig, "*"); ok {
			if prefix != "" && strings.HasPrefix(name, prefix) {
				return true
			}
		} else if ig != "" && ig == name {
			return true
		}
	}
	return false
}

// isUnreserved reports whether c is an RFC 3986 unreserved character, whose
// escaped and literal forms are equivalent.
func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathByte reports whether c may appear unescaped in a canonical path:
// unreserved, a sub-delimiter, ':', '@' or '/'.
func isPathByte(c byte) bool {
	return isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@/", c) >= 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func writeEscape(b *strings.Builder, c byte) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&15])
}

// punycode encodes a label of Unicode code points with the Bootstring
// parameters of RFC 3492, section 6.3. The caller adds the "xn--" prefix.
func punycode(label string) string {
	const (
		base, tmin, tmax = 36, 1, 26
		skew, damp       = 38, 700
		initialBias      = 72
		initialN         = 128
	)
	adapt := func(delta, numPoints int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / numPoints
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}

	runes := []rune(label)
	var out []byte
	for _, r := range runes {
		if r < initialN {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := initialN, 0, initialBias
	for h < len(runes) {
		m := int(unicode.MaxRune) + 1
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		// Labels are at most a few hundred runes (MaxURLLength), so delta
		// stays far below overflow.
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) == n {
				q := delta
				for k := base; ; k += base {
					t := k - bias
					if t < tmin {
						t = tmin
					} else if t > tmax {
						t = tmax
					}
					if q < t {
						break
					}
					out = append(out, digit(t+(q-t)%(base-t)))
					q = (q - t) / (base - t)
				}
				out = append(out, digit(q))
				bias = adapt(delta, h+1, h == b)
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return string(out)
}
