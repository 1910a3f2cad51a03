package service

// NearDuplicate reports whether two texts' signatures count as
// near-duplicates, for the tests of service_test.
func NearDuplicate(a, b string) bool {
	sa, sb := textSignature(a), textSignature(b)
	return sa != "" && sb != "" && signatureSimilarity(sa, sb) >= nearDuplicate
}
