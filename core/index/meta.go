package index

import (
	"encoding/json"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/metric"
)

// LoadMeta decodes file's "meta" section into v, a type's meta struct whose
// embedded Meta is head, checks the layout version and dim, and restores
// the metric.
func LoadMeta(file *format.File, typeName string, layout int, v any, head *Meta) (*metric.Metric, error) {
	raw, err := file.Section("meta", true)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("%w: %s meta section: %v", errs.Corrupt, typeName, err)
	}
	if head.Layout != layout {
		return nil, fmt.Errorf("%w: %s layout version %d, this build reads %d", errs.Unsupported, typeName, head.Layout, layout)
	}
	if head.Dim < 1 || head.Dim > MaxDim {
		return nil, fmt.Errorf("%w: %s dim %d", errs.Corrupt, typeName, head.Dim)
	}
	return metric.Restore(file, head.Stored, head.Dim)
}
