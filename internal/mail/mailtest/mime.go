package mailtest

import "mime"

type mimeDecoder struct{ d mime.WordDecoder }

func (m *mimeDecoder) decode(s string) (string, error) { return m.d.DecodeHeader(s) }
