package kernels

// The assembly is generated; `make kernels` runs these.
//go:generate sh -c "cd _generate && go run ./float32 -out ../float32_amd64.s -stubs ../float32_amd64.go -pkg kernels"
//go:generate sh -c "cd _generate && go run ./int8 -out ../int8_amd64.s -stubs ../int8_amd64.go -pkg kernels"
//go:generate sh -c "cd _generate && go run ./bits -out ../bits_amd64.s -stubs ../bits_amd64.go -pkg kernels"
//go:generate sh -c "cd _generate && go run ./tile -out ../tile_amd64.s -stubs ../tile_amd64.go -pkg kernels"
//go:generate sh -c "cd _generate && go run ./panel -out ../panel_amd64.s -stubs ../panel_amd64.go -pkg kernels"
//go:generate sh -c "cd _generate && go run ./rows -out ../rows_amd64.s -stubs ../rows_amd64.go -pkg kernels"
//go:generate sh -c "cd _generate && go run ./gather -out ../gather_amd64.s -stubs ../gather_amd64.go -pkg kernels"
//go:generate sh -c "cd _generate && go run ./adc -out ../adc_amd64.s -stubs ../adc_amd64.go -pkg kernels"
