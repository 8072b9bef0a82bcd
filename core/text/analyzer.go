package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// Terms appends the index terms of s to dst: words split at Unicode
// boundaries, lowercased, accents folded, English stop words dropped,
// stemmed with Snowball English (Porter2).
//
// A word is a maximal run of letters, digits and combining marks; an
// apostrophe between two letters stays inside it (don't, Ørsted's), every
// other character separates. Unlike UAX #29 this also splits at '.', '_'
// and ':' between letters, so identifiers such as gzip.open or read_file
// give two terms each - what documentation and code search need.
func Terms(s string, dst []string) []string {
	eachWord(s, func(w string) { dst = appendTerm(dst, w) })
	return dst
}

// eachWord calls fn with each word of s, as Terms defines words.
func eachWord(s string, fn func(string)) {
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && isApostrophe(r) {
			prev, _ := utf8.DecodeLastRuneInString(s[:i])
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if unicode.IsLetter(prev) && unicode.IsLetter(next) {
				continue
			}
		}
		if start >= 0 {
			fn(s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		fn(s[start:])
	}
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' }

func appendTerm(dst []string, word string) []string {
	if t := term(word); t != "" {
		dst = append(dst, t)
	}
	return dst
}

// term returns a word's term ("" for a stop word), cached (stemcache.go).
func term(word string) string {
	if t, ok := stems.get(word); ok {
		return t
	}
	t := analyze(word)
	stems.put(word, t)
	return t
}

// analyze maps one word to its term ("" for a stop word).
func analyze(word string) string {
	w := fold(word)
	if stopWords[w] {
		return ""
	}
	if strings.ContainsRune(w, '\u2019') {
		w = strings.ReplaceAll(w, "\u2019", "'")
	}
	return english.Stem(w, true)
}

// fold lowercases and removes accents (NFD, then combining marks dropped).
func fold(word string) string {
	ascii := true
	for i := 0; i < len(word); i++ {
		if word[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(word)
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(word) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// stopWords is the English stop list of Lucene's StandardAnalyzer (the one
// Anserini's BM25 baselines use), so our figures compare with theirs.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be but by for if in into is it no not of on or
		such that the their then there these they this to was will with`) {
		stopWords[w] = true
	}
}
