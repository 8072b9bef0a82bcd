package lsh

// The buckets of a table map a key to the rows filed under it. A row is
// in exactly one bucket per table (keys[r*tables+t] names it); empty
// buckets are deleted, so a table's size is its distinct keys.

func newBuckets(tables int) []map[uint64][]int32 {
	b := make([]map[uint64][]int32, tables)
	for t := range b {
		b[t] = map[uint64][]int32{}
	}
	return b
}

// file puts rows [from, to) into their buckets.
func (x *LSH) file(from, to int) {
	T := x.tables
	for r := from; r < to; r++ {
		for t, key := range x.keys[r*T : (r+1)*T] {
			x.buckets[t][key] = append(x.buckets[t][key], int32(r))
		}
	}
}

// unfile takes row r out of its buckets.
func (x *LSH) unfile(r int) {
	T := x.tables
	for t, key := range x.keys[r*T : (r+1)*T] {
		rows := x.buckets[t][key]
		for i, v := range rows {
			if v == int32(r) {
				rows[i] = rows[len(rows)-1]
				rows = rows[:len(rows)-1]
				break
			}
		}
		if len(rows) == 0 {
			delete(x.buckets[t], key)
		} else {
			x.buckets[t][key] = rows
		}
	}
}

// renumber files row from as row to in its buckets (from moved into the
// hole to left by a remove).
func (x *LSH) renumber(from, to int) {
	T := x.tables
	for t, key := range x.keys[from*T : (from+1)*T] {
		rows := x.buckets[t][key]
		for i, v := range rows {
			if v == int32(from) {
				rows[i] = int32(to)
				break
			}
		}
	}
}
