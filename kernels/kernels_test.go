package kernels

import (
	"math"
	"math/bits"
	"math/rand"
	"testing"
)

// dims hits every SIMD tail: below, at and above each vector width and
// unroll factor, plus the sizes of common embeddings.
var dims = []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 97, 127, 128, 129, 383, 384, 768, 1536}

// forEachLevel runs f with every kernel level this CPU has.
func forEachLevel(t *testing.T, f func(t *testing.T, s *Set)) {
	t.Helper()
	saved := Current().Level
	defer SetLevel(saved)
	for l := Generic; l <= AVX512; l++ {
		if !Available(l) {
			t.Logf("level %v not available here", l)
			continue
		}
		if err := SetLevel(l); err != nil {
			t.Fatal(err)
		}
		t.Run(l.String(), func(t *testing.T) { f(t, Current()) })
	}
}

// guarded returns a slice of n random values at offset off inside a larger
// buffer whose other cells hold NaN guards: a kernel that reads past its
// input turns the result into NaN.
func guarded(rng *rand.Rand, n, off int) []float32 {
	buf := make([]float32, n+off+64)
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	s := buf[off : off+n]
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func refDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func refL2(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

func refL1(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return s
}

func close(got float32, want, scale float64) bool {
	return math.Abs(float64(got)-want) <= 1e-5*scale+1e-6
}

func TestFloat32Kernels_MatchFloat64Reference(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(1))
		for _, d := range dims {
			for off := 0; off < 4; off++ {
				a, b := guarded(rng, d, off), guarded(rng, d, 3-off)
				scale := math.Sqrt(float64(d)) * 4
				cases := []struct {
					name string
					got  float32
					want float64
				}{
					{"dot", s.Dot(a, b), refDot(a, b)},
					{"l2sq", s.L2Sq(a, b), refL2(a, b)},
					{"l1", s.L1(a, b), refL1(a, b)},
				}
				for _, c := range cases {
					if !close(c.got, c.want, scale*scale) {
						t.Fatalf("%s d=%d off=%d: got %v want %v", c.name, d, off, c.got, c.want)
					}
				}
			}
		}
	})
}

func TestRankTile_EqualsSixteenRankedDots(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(2))
		for _, d := range dims {
			for off := 0; off < 4; off++ {
				q, x := guarded(rng, 4*d, off), guarded(rng, 4*d, (off+1)%4)
				beta := [4]float32{1, 2, 3, 4}
				var bound [4]float32
				for i := range bound {
					bound[i] = float32(rng.NormFloat64() * math.Sqrt(float64(d)))
				}
				bound[3] = float32(math.Inf(1))
				var out [16]float32
				for i := range out {
					out[i] = 12345 // must be overwritten
				}
				mask := s.RankTile(q, x, d, -2, &beta, &bound, &out)
				for i := 0; i < 4; i++ {
					for j := 0; j < 4; j++ {
						want := float64(beta[j]) - 2*refDot(q[i*d:(i+1)*d], x[j*d:(j+1)*d])
						got := out[4*i+j]
						if !close(got, want, 64*float64(d)) {
							t.Fatalf("d=%d off=%d out[%d][%d] = %v, want %v", d, off, i, j, got, want)
						}
						if bit := mask>>(4*i+j)&1 == 1; bit != (got <= bound[i]) {
							t.Fatalf("d=%d [%d][%d]: mask bit %v for %v <= %v", d, i, j, bit, got, bound[i])
						}
					}
				}
				if mask>>12 != 0xf || mask>>16 != 0 {
					t.Fatalf("mask %016b: row 3 has bound +Inf and must pass entirely", mask)
				}
			}
		}
	})
}

func TestRows_EqualOneKernelCallPerRow(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(5))
		for _, k := range []struct {
			name string
			rows func(q, x []float32, d int, out []float32)
			ref  func(a, b []float32) float64
		}{{"DotRows", s.DotRows, refDot}, {"L2SqRows", s.L2SqRows, refL2}} {
			for _, d := range dims {
				for _, n := range []int{0, 1, 3, 4, 5, 9} {
					q, x := guarded(rng, d, 1), guarded(rng, n*d, 2)
					out := make([]float32, n+1)
					out[n] = 777 // guard: must stay
					k.rows(q, x, d, out[:n])
					for j := 0; j < n; j++ {
						if want := k.ref(q, x[j*d:(j+1)*d]); !close(out[j], want, 4*float64(d)) {
							t.Fatalf("%s d=%d n=%d row %d: %v want %v", k.name, d, n, j, out[j], want)
						}
					}
					if out[n] != 777 {
						t.Fatalf("%s d=%d n=%d: wrote past the end", k.name, d, n)
					}
				}
			}
		}
	})
}

func TestDotCols_EqualsOneDotPerColumn(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(7))
		for _, d := range []int{0, 1, 2, 3, 4, 8, 16, 24} {
			for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 100, 128, 255, 256, 300} {
				q, x := guarded(rng, d, 1), guarded(rng, d*n, 2)
				out := make([]float32, n+1)
				out[n] = 777 // guard: must stay
				s.DotCols(q, x, d, out[:n])
				col := make([]float32, d)
				for j := 0; j < n; j++ {
					for i := range col {
						col[i] = x[i*n+j]
					}
					if want := refDot(q, col); !close(out[j], want, 4*float64(d)) {
						t.Fatalf("d=%d n=%d column %d: %v want %v", d, n, j, out[j], want)
					}
				}
				if out[n] != 777 {
					t.Fatalf("d=%d n=%d: wrote past the end", d, n)
				}
			}
		}
	})
}

func TestMatMul4_IsDotColsPerStridedRow(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(10))
		for _, d := range []int{0, 1, 3, 8, 17} {
			for _, n := range []int{0, 1, 15, 16, 17, 63, 64, 65, 100, 384} {
				qstride, ostride := d+5, n+3 // gaps between rows must stay untouched
				q, x := guarded(rng, 4*qstride, 1), guarded(rng, d*n, 2)
				out := make([]float32, 4*ostride)
				for i := range out {
					out[i] = 777
				}
				s.MatMul4(q, qstride, x, d, n, out, ostride)
				one := make([]float32, n)
				for r := range 4 {
					generic.DotCols(q[r*qstride:r*qstride+d], x, d, one)
					for j := range ostride {
						want := float64(777)
						if j < n {
							want = float64(one[j])
						}
						if !close(out[r*ostride+j], want, 4*float64(d)) {
							t.Fatalf("d=%d n=%d row %d column %d: %v want %v", d, n, r, j, out[r*ostride+j], want)
						}
					}
				}
			}
		}
	})
}

func TestRows4_IsOneCodeKernelPerQueryAndCodePlusSquares(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(11))
		for _, bits := range []int{8, 4} {
			for _, square := range []bool{false, true} {
				for _, d := range []int{1, 5, 15, 16, 17, 31, 32, 33, 128, 384} {
					for _, n := range []int{0, 1, 3, 8} {
						wl := d // weights per row; 4 bits: d code bytes, 2d weights
						if bits == 4 {
							wl = 2 * d
						}
						stride := d + 3
						w := guarded(rng, 4*wl, 1)
						var v []float32
						if square {
							v = guarded(rng, wl, 1)
							for j := range v {
								v[j] /= 255 // terms the size of the w ones, so an error in either shows
							}
						}
						codes := make([]uint8, max(0, (n-1)*stride+d))
						for i := range codes {
							codes[i] = uint8(rng.Intn(256))
						}
						out := make([]float32, 4*n+1)
						out[4*n] = 777
						if bits == 8 {
							s.DotU8F32Rows4(w, v, d, codes, stride, out[:4*n])
						} else {
							s.DotU4F32Rows4(w, v, d, codes, stride, out[:4*n])
						}
						for i := range n {
							c := codes[i*stride : i*stride+d]
							var sq float64
							for j := range v {
								x := float64(c[j%d])
								switch {
								case bits == 4 && j < d:
									x = float64(c[j] & 15)
								case bits == 4:
									x = float64(c[j-d] >> 4)
								}
								sq += float64(v[j]) * x * x
							}
							for r := range 4 {
								row := w[r*wl : (r+1)*wl]
								want := sq
								if bits == 8 {
									want += float64(generic.DotU8F32(row, c))
								} else {
									want += float64(generic.DotU4F32(row[:d], row[d:], c))
								}
								if !close(out[4*i+r], want, 2*255*4*float64(wl)) {
									t.Fatalf("bits=%d square=%v d=%d n=%d code %d query %d: %v want %v", bits, square, d, n, i, r, out[4*i+r], want)
								}
							}
						}
						if out[4*n] != 777 {
							t.Fatalf("bits=%d d=%d n=%d: wrote past the end", bits, d, n)
						}
					}
				}
			}
		}
	})
}

func TestFirstBelowU16_FindsTheFirstSmallerValue(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(12))
		for _, n := range []int{0, 1, 5, 31, 32, 33, 64, 95, 200} {
			for _, lim := range []uint16{0, 1, 300, 40000, 65535} {
				for range 20 {
					x := make([]uint16, n+40) // values past n are below lim: must not be seen
					for i := range x {
						x[i] = 0
						if i < n {
							x[i] = lim + uint16(rng.Intn(int(65536-int(lim))))
						}
					}
					want := n
					if n > 0 && lim > 0 && rng.Intn(3) > 0 {
						want = rng.Intn(n)
						x[want] = uint16(rng.Intn(int(lim)))
					}
					if got := s.FirstBelowU16(x[:n], lim); got != want {
						t.Fatalf("n=%d lim=%d: got %d want %d", n, lim, got, want)
					}
				}
			}
		}
	})
}

func TestFirstAtMostAndAtLeast_FindTheFirstScorePastTheBound(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(14))
		for _, k := range []struct {
			name      string
			dir       float32 // +1: scores that fail are above b
			got, want func([]float32, float32) int
		}{{"at most", 1, s.FirstAtMost, firstAtMostGeneric}, {"at least", -1, s.FirstAtLeast, firstAtLeastGeneric}} {
			for _, n := range []int{0, 1, 15, 16, 17, 33, 100} {
				for range 40 {
					b := float32(rng.Intn(20) - 10)
					x := make([]float32, n+20) // past n: passing values, which must not be seen
					for i := range x {
						x[i] = b
						if i < n {
							x[i] = b + k.dir*float32(1+rng.Intn(100)) // fails the test
							if rng.Intn(20) == 0 {
								x[i] = b - k.dir*float32(rng.Intn(3)) // passes, at times by equality
							}
						}
					}
					if got, want := k.got(x[:n], b), k.want(x[:n], b); got != want {
						t.Fatalf("%s n=%d b=%v: %d want %d", k.name, n, b, got, want)
					}
				}
			}
		}
	})
}

func TestDotU8I8Rows4_IsTheIntegerDotThenTheAffineMap(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		if s.DotU8I8Rows4 == nil {
			t.Skip("no VNNI at this level")
		}
		rng := rand.New(rand.NewSource(15))
		for _, d := range []int{64, 128, 384} {
			for _, n := range []int{0, 4, 8, 20} {
				q, x := make([]uint8, 4*d), make([]int8, n*d)
				for i := range q {
					q[i] = uint8(rng.Intn(256))
				}
				for i := range x {
					x[i] = int8(rng.Intn(256) - 128)
				}
				bias, add := guarded(rng, n, 0), guarded(rng, n, 0)
				mul := [4]float32{1, -0.5, 2, 0.25}
				got, want := make([]float32, 4*n+1), make([]float32, 4*n)
				got[4*n] = 777
				s.DotU8I8Rows4(q, x, d, bias, add, &mul, got[:4*n])
				dotU8I8Rows4Generic(q, x, d, bias, add, &mul, want)
				for i := range want {
					if !close(got[i], float64(want[i]), 2*255*128*float64(d)) {
						t.Fatalf("d=%d n=%d entry %d: %v want %v", d, n, i, got[i], want[i])
					}
				}
				if got[4*n] != 777 {
					t.Fatal("wrote past out")
				}
			}
		}
	})
}

func TestEncodeU8_ScalesRoundsAndStaysInRange(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(16))
		for _, n := range []int{0, 1, 15, 16, 17, 128, 383} {
			for trial := range 5 {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
					if trial == 0 {
						x[i] = 0
					}
				}
				got, want := make([]uint8, n+3), make([]uint8, n)
				got[n] = 77 // guard
				gs, ws := s.EncodeU8(x, got[:n]), encodeU8Generic(x, want)
				if gs != ws || got[n] != 77 {
					t.Fatalf("n=%d: scale %v want %v, guard %d", n, gs, ws, got[n])
				}
				for i := range want {
					if got[i] != want[i] || got[i] == 0 {
						t.Fatalf("n=%d i=%d: %d want %d (x %v)", n, i, got[i], want[i], x[i])
					}
				}
			}
		}
	})
}

func TestArgMin_IsTheFirstMinimum(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(13))
		for _, n := range []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 256, 300} {
			for trial := range 30 {
				x := make([]float32, n+20) // past n: smaller values, which must not be seen
				for i := range x {
					x[i] = -1000
					if i < n {
						x[i] = float32(rng.Intn(50)) // ties: the first must win
						if trial%3 == 0 {
							x[i] = float32(math.Inf(1)) // all +Inf: index 0
						}
					}
				}
				if got, want := s.ArgMin(x[:n]), argMinGeneric(x[:n]); got != want {
					t.Fatalf("n=%d trial %d: %d want %d", n, trial, got, want)
				}
			}
		}
	})
}

func TestADC8_SumsOneTableEntryPerByte(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(8))
		for _, m := range []int{1, 3, 7, 8, 9, 16, 48, 50} {
			lut := guarded(rng, 256*m, 0)
			for _, n := range []int{0, 1, 2, 5} {
				codes := make([]uint8, n*m)
				for i := range codes {
					codes[i] = uint8(rng.Intn(256))
				}
				if len(codes) > 1 {
					codes[0], codes[1] = 0, 255 // the table edges
				}
				out := make([]float32, n+1)
				out[n] = 777 // guard: must stay
				s.ADC8(lut, codes, m, out[:n])
				for i := 0; i < n; i++ {
					var want float64
					for j := range m {
						want += float64(lut[j*256+int(codes[i*m+j])])
					}
					if !close(out[i], want, 4*float64(m)) {
						t.Fatalf("m=%d n=%d code %d: %v want %v", m, n, i, out[i], want)
					}
				}
				if out[n] != 777 {
					t.Fatalf("m=%d n=%d: wrote past the end", m, n)
				}
			}
		}
	})
}

func TestAddScaled_EqualsTheFormula(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(9))
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 33, 256, 1000} {
			a, b := guarded(rng, n, 1), guarded(rng, n, 2)
			out := make([]float32, n+1)
			out[n] = 777
			s.AddScaled(a, b, -2, out[:n])
			for i := 0; i < n; i++ {
				if want := float64(a[i]) - 2*float64(b[i]); !close(out[i], want, 4) {
					t.Fatalf("n=%d at %d: %v want %v", n, i, out[i], want)
				}
			}
			if out[n] != 777 {
				t.Fatalf("n=%d: wrote past the end", n)
			}
		}
	})
}

func TestGather_EqualsOneKernelPerRow(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(6))
		for _, d := range []int{16, 32, 48, 128, 384} {
			base := guarded(rng, 50*d, 0)[:50*d]
			q := guarded(rng, d, 3)
			rows := []uint32{7, 0, 49, 7, 13}
			for _, k := range []struct {
				name string
				fn   func(q, base []float32, d int, rows []uint32, out []float32)
				ref  func(a, b []float32) float64
			}{{"l2sq", s.L2SqGather, refL2}, {"dot", s.DotGather, refDot}} {
				for n := 0; n <= len(rows); n++ {
					out := make([]float32, n+1)
					out[n] = 555
					k.fn(q, base, d, rows[:n], out[:n])
					for i := 0; i < n; i++ {
						want := k.ref(q, base[int(rows[i])*d:int(rows[i]+1)*d])
						if !close(out[i], want, 16*float64(d)) {
							t.Fatalf("%s d=%d n=%d [%d]: %v want %v", k.name, d, n, i, out[i], want)
						}
					}
					if out[n] != 555 {
						t.Fatalf("%s d=%d: wrote past the end", k.name, d)
					}
				}
			}
		}
	})
}

func TestL2U8Gather_IsExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(7))
		// 64..256: the unrolled AVX-512 strides; 0..9 rows: blocks of four
		// and every tail; row 20 holds the largest differences (0 vs 255)
		for _, stride := range []int{64, 128, 192, 256, 320, 384, 448} {
			base := make([]uint8, 21*stride)
			q := make([]uint8, stride)
			for i := range base[:20*stride] {
				base[i] = uint8(rng.Intn(256))
			}
			for i := range q {
				q[i] = uint8(rng.Intn(256))
				base[20*stride+i] = 255 * (1 - q[i]/128)
			}
			all := []uint32{19, 0, 5, 5, 20, 7, 1, 20, 3}
			for n := 0; n <= len(all); n++ {
				rows := all[:n]
				out := make([]uint32, n+1)
				out[n] = 99
				s.L2U8Gather(q, base, stride, rows, out[:n])
				for i, r := range rows {
					if want := l2U8Generic(q, base[int(r)*stride:int(r+1)*stride]); out[i] != want {
						t.Fatalf("stride %d, %d rows, row %d: %d want %d", stride, n, i, out[i], want)
					}
				}
				if out[n] != 99 {
					t.Fatalf("stride %d, %d rows: wrote past the end", stride, n)
				}
			}
		}
	})
}

func TestIntKernels_AreExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(3))
		for _, d := range append(dims, 4096) {
			for off := 0; off < 4; off++ {
				bufA, bufB := make([]int8, d+off+64), make([]int8, d+off+64)
				for i := range bufA {
					bufA[i], bufB[i] = 127, -128 // extreme guards
				}
				a, b := bufA[off:off+d], bufB[3-off:3-off+d]
				ua, ub := make([]uint8, d), make([]uint8, d)
				for i := 0; i < d; i++ {
					a[i], b[i] = int8(rng.Intn(256)-128), int8(rng.Intn(256)-128)
					ua[i], ub[i] = uint8(rng.Intn(256)), uint8(rng.Intn(256))
				}
				if d > 0 {
					a[0], b[0] = -128, -128 // the extreme product
				}
				if got, want := s.DotI8(a, b), dotI8Generic(a, b); got != want {
					t.Fatalf("dotI8 d=%d off=%d: %d want %d", d, off, got, want)
				}
				if got, want := s.L2U8(ua, ub), l2U8Generic(ua, ub); got != want {
					t.Fatalf("l2U8 d=%d: %d want %d", d, got, want)
				}
			}
		}
	})
}

func TestHamming_IsExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(4))
		for _, words := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100} {
			a, b := make([]uint64, words), make([]uint64, words+1)
			b[words] = math.MaxUint64 // guard: reading it would add 64
			want := 0
			for i := 0; i < words; i++ {
				a[i], b[i] = rng.Uint64(), rng.Uint64()
				want += bits.OnesCount64(a[i] ^ b[i])
			}
			if got := s.Hamming(a, b[:words]); got != want {
				t.Fatalf("words=%d: %d want %d", words, got, want)
			}
		}
	})
}

func TestDotU8F32_MatchesFloat64(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(6))
		for _, d := range []int{0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 384, 1000} {
			w, c := make([]float32, d+1), make([]uint8, d+1)
			want := 0.0
			for i := 0; i < d; i++ {
				w[i], c[i] = float32(rng.NormFloat64()), uint8(rng.Intn(256))
				want += float64(w[i]) * float64(c[i])
			}
			w[d], c[d] = float32(math.NaN()), 255 // guard: reading it would poison the sum
			got := float64(s.DotU8F32(w[:d], c))
			if math.Abs(got-want) > 1e-4*(1+math.Abs(want))*float64(1+d/64) {
				t.Fatalf("d=%d: %g want %g", d, got, want)
			}
		}
	})
}

func TestDotU4F32_MatchesFloat64(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(7))
		for _, h := range []int{0, 1, 7, 8, 9, 15, 16, 17, 33, 192, 500} {
			lo, hi, c := make([]float32, h+1), make([]float32, h+1), make([]uint8, h+1)
			want := 0.0
			for i := 0; i < h; i++ {
				lo[i], hi[i], c[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), uint8(rng.Intn(256))
				want += float64(lo[i])*float64(c[i]&15) + float64(hi[i])*float64(c[i]>>4)
			}
			lo[h], hi[h], c[h] = float32(math.NaN()), float32(math.NaN()), 255 // guards
			got := float64(s.DotU4F32(lo[:h], hi, c))
			if math.Abs(got-want) > 1e-4*(1+math.Abs(want))*float64(1+h/64) {
				t.Fatalf("h=%d: %g want %g", h, got, want)
			}
		}
	})
}

func TestHammingRows_IsExact(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		rng := rand.New(rand.NewSource(5))
		for _, w := range []int{1, 2, 3, 4, 6, 8, 12, 17} {
			for _, rows := range []int{0, 7, 8, 37} { // 128-bit codes go 8 at a time
				q, codes := make([]uint64, w), make([]uint64, rows*w+1)
				for i := range q {
					q[i] = rng.Uint64()
				}
				for i := range codes {
					codes[i] = rng.Uint64()
				}
				out := make([]uint16, rows+1)
				out[rows] = 7777 // guard: must stay
				s.HammingRows(q, codes[:rows*w], w, out[:rows])
				for r := range rows {
					if want := hammingGeneric(q, codes[r*w:(r+1)*w]); int(out[r]) != want {
						t.Fatalf("w=%d row %d: %d want %d", w, r, out[r], want)
					}
				}
				if out[rows] != 7777 {
					t.Fatal("wrote past out")
				}
			}
		}
	})
}

func TestSetLevel_RefusesWhatTheCPULacks(t *testing.T) {
	if err := SetLevel(Level(7)); err == nil {
		t.Fatal("level 7 accepted")
	}
	if _, err := ParseLevel("sse9"); err == nil {
		t.Fatal("sse9 parsed")
	}
	if l, err := ParseLevel(" AVX2 "); err != nil || l != AVX2 {
		t.Fatalf("AVX2 parsed as %v %v", l, err)
	}
}

func TestColumns_Transposes(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5, 6} // 2 x 3
	got := Columns(a, 2, 3, nil)
	want := []float32{1, 4, 2, 5, 3, 6}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Columns = %v, want %v", got, want)
		}
	}
}

func TestRankPanel_EqualsRankedDotsOfPackedQueries(t *testing.T) {
	forEachLevel(t, func(t *testing.T, s *Set) {
		if s.RankPanel == nil {
			t.Skipf("no RankPanel at level %v", s.Level)
		}
		rng := rand.New(rand.NewSource(7))
		for _, d := range dims[1:] {
			for _, nq := range []int{1, 17, PanelQueries} {
				off := d % 4
				q, x := guarded(rng, nq*d, off), guarded(rng, PanelRows*d, (off+1)%4)
				qt := guarded(rng, PanelQueries*d, (off+2)%4)
				PackPanel(q, d, qt)
				beta := guarded(rng, PanelRows, off)
				var bound [PanelQueries]float32
				for i := range bound {
					bound[i] = float32(rng.NormFloat64() * math.Sqrt(float64(d)))
				}
				bound[5] = float32(math.Inf(1))
				var out [PanelQueries * PanelRows]float32
				var masks [PanelRows]uint32
				for i := range out {
					out[i] = 12345 // must be overwritten
				}
				any := s.RankPanel(qt, x, d, -2, beta, &bound, &out, &masks)
				var or uint32
				for r := 0; r < PanelRows; r++ {
					or |= masks[r]
					for i := 0; i < PanelQueries; i++ {
						var want float64
						if i < nq {
							want = float64(beta[r]) - 2*refDot(q[i*d:(i+1)*d], x[r*d:(r+1)*d])
						} else {
							want = float64(beta[r]) // padding queries are zero
						}
						got := out[PanelQueries*r+i]
						if !close(got, want, 64*float64(d)) {
							t.Fatalf("d=%d nq=%d out[%d][%d] = %v, want %v", d, nq, r, i, got, want)
						}
						if bit := masks[r]>>i&1 == 1; bit != (got <= bound[i]) {
							t.Fatalf("d=%d row %d query %d: mask bit %v for %v <= %v", d, r, i, bit, got, bound[i])
						}
					}
					if masks[r]>>5&1 != 1 {
						t.Fatalf("d=%d masks[%d] = %032b: query 5 has bound +Inf and must pass every row", d, r, masks[r])
					}
				}
				if any != or {
					t.Fatalf("d=%d: returned %032b, want the OR of masks %032b", d, any, or)
				}
			}
		}
	})
}

func TestPackPanel_TransposesAndZeroPads(t *testing.T) {
	d := 3
	q := []float32{1, 2, 3, 4, 5, 6} // 2 queries
	qt := make([]float32, PanelQueries*d)
	for i := range qt {
		qt[i] = -1
	}
	PackPanel(q, d, qt)
	for c := 0; c < d; c++ {
		for i := 0; i < PanelQueries; i++ {
			want := float32(0)
			if i < 2 {
				want = q[i*d+c]
			}
			if got := qt[PanelQueries*c+i]; got != want {
				t.Fatalf("qt[%d*32+%d] = %v, want %v", c, i, got, want)
			}
		}
	}
}
