package fleet_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/pmtu/pmtu/measure/fleet"
)

// A host file searched one target at a time by a stand-in search; the
// bad line is reported by its number and never searched.
func ExampleRun() {
	input := "# branch offices\nberlin.example\n\nparis example\nrome.example\n"
	search := func(ctx context.Context, t fleet.Target) fleet.Result[string] {
		return fleet.Result[string]{Status: fleet.Found, PMTU: 1400 + len(t.Host), Value: "via the tunnel"}
	}
	sum := fleet.Run(context.Background(), fleet.Lines(strings.NewReader(input)), search,
		func(r fleet.Result[string], p fleet.Progress) {
			if r.Target.Err != nil {
				fmt.Printf("line %d: %v\n", r.Target.Line, r.Target.Err)
				return
			}
			fmt.Printf("line %d: %s: %d %s (%d done)\n", r.Target.Line, r.Target.Host, r.PMTU, r.Value, p.Done)
		}, &fleet.Config{Parallel: 1})
	fmt.Printf("%d found, %d bad input, by path MTU %v\n", sum.Found, sum.BadInput, sum.ByPMTU)
	// Output:
	// line 2: berlin.example: 1414 via the tunnel (1 done)
	// line 4: "paris example": one host per line
	// line 5: rome.example: 1412 via the tunnel (3 done)
	// 2 found, 1 bad input, by path MTU map[1412:1 1414:1]
}
