package candidates

import (
	"github.com/bytedance/sonic"
	"github.com/cloudwego/base64x"
)

// Candidates that build for amd64 only: sonic's loader does not build for linux/arm64, and
// base64x has no arm64 code.
func init() {
	unmarshalers = append(unmarshalers, unmarshaler{"sonic", sonic.Unmarshal})
	validators = append(validators, validator{"sonic", sonic.Valid})
	base64Decoders = append(base64Decoders, base64Decoder{"base64x", func(dst, src []byte) error {
		_, err := base64x.StdEncoding.Decode(dst, src)
		return err
	}})
}
