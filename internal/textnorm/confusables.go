package textnorm

// confusables maps lower-case letters from other scripts (and Latin small
// capitals and other variants that NFKC leaves alone) to the ASCII letter they
// are used to imitate. It is applied after case folding, so only lower-case
// forms are listed. The list follows Unicode's confusables data for the
// letters that matter to English word lists, plus the shapes that evaders use
// in practice (Cyrillic и for u, н for h, т for t).
var confusables = map[rune]byte{
	// Cyrillic
	'а': 'a', 'в': 'b', 'г': 'r', 'е': 'e', 'ё': 'e', 'и': 'u', 'к': 'k', 'м': 'm',
	'н': 'h', 'о': 'o', 'п': 'n', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x',
	'ш': 'w', 'щ': 'w', 'ь': 'b', 'є': 'e', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j',
	'һ': 'h', 'ӏ': 'l', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ү': 'y', 'ѵ': 'v', 'ѡ': 'w',
	'ґ': 'r', 'ҽ': 'e', 'ҡ': 'k', 'ԍ': 'g', 'ӽ': 'x',
	// Greek
	'α': 'a', 'β': 'b', 'γ': 'y', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'μ': 'u',
	'ν': 'v', 'ο': 'o', 'π': 'n', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w',
	'ϲ': 'c', 'ϳ': 'j', 'ϱ': 'p', 'ϸ': 'p', 'ζ': 'z',
	// Armenian
	'օ': 'o', 'ս': 'u', 'ց': 'g', 'հ': 'h', 'ո': 'n', 'զ': 'q',
	// Latin variants, IPA and small capitals
	'ı': 'i', 'ȷ': 'j', 'ɑ': 'a', 'ɡ': 'g', 'ɩ': 'i', 'ɪ': 'i', 'ʟ': 'l', 'ʀ': 'r',
	'ɴ': 'n', 'ʏ': 'y', 'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ғ': 'f',
	'ʜ': 'h', 'ᴊ': 'j', 'ᴋ': 'k', 'ᴍ': 'm', 'ᴏ': 'o', 'ᴘ': 'p', 'ꜱ': 's', 'ᴛ': 't',
	'ᴜ': 'u', 'ꜰ': 'f', 'ꞯ': 'q', 'ᴠ': 'v', 'ᴡ': 'w', 'ᴢ': 'z', 'ɢ': 'g', 'ø': 'o', 'đ': 'd', 'ħ': 'h',
	'ł': 'l', 'ŧ': 't', 'ƀ': 'b', 'ɨ': 'i', 'ʉ': 'u', 'ɵ': 'o', 'ɓ': 'b', 'ƈ': 'c',
	'ɗ': 'd', 'ƒ': 'f', 'ɠ': 'g', 'ɦ': 'h', 'ƙ': 'k', 'ɱ': 'm', 'ɲ': 'n', 'ƥ': 'p',
	'ʠ': 'q', 'ɽ': 'r', 'ʂ': 's', 'ƭ': 't', 'ʋ': 'v', 'ⱳ': 'w', 'ƴ': 'y', 'ȥ': 'z',
	'ð': 'd', 'ꝺ': 'd', 'ɛ': 'e', 'ɔ': 'o', 'ʌ': 'v',
}
