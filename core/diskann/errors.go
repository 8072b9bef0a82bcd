package diskann

import "fmt"

// The loader's own checks (wrapped by Sections.Corrupt as errs.Corrupt).

func errID(node int, id, next int64) error {
	return fmt.Errorf("node %d holds id %d outside [0, next_id=%d)", node, id, next)
}

func errDup(id int64) error { return fmt.Errorf("id %d is stored twice", id) }
