module github.com/rabbitmq-esm/rabbitmq-esm/bench/candidates

go 1.26.8

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/bytedance/sonic v1.15.5
	github.com/cloudwego/base64x v0.1.6
	github.com/goccy/go-json v0.10.5
	github.com/json-iterator/go v1.1.12
	github.com/segmentio/encoding v0.5.4
	github.com/tidwall/gjson v1.18.0
	github.com/valyala/fastjson v1.6.10
	github.com/rabbitmq-esm/rabbitmq-esm v0.0.0
)

require (
	github.com/bytedance/gopkg v0.1.3 // indirect
	github.com/bytedance/sonic/loader v0.5.3 // indirect
	github.com/klauspost/cpuid/v2 v2.3.0 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.3-0.20250322232337-35a7c28c31ee // indirect
	github.com/segmentio/asm v1.1.3 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	github.com/twitchyliquid64/golang-asm v0.15.1 // indirect
	golang.org/x/arch v0.0.0-20210923205945-b76863e36670 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/rabbitmq-esm/rabbitmq-esm => ../..
