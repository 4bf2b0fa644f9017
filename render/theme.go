package render

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// style names a part of a terminal ladder; the Theme says how it looks.
type style uint8

const (
	stPlain    style = iota
	stDim            // lifelines, times, CSeq
	stHeader         // participant names
	stTitle          // the call's title line
	stRequest        // a request's method
	stProv           // 1xx
	stSuccess        // 2xx
	stRedirect       // 3xx
	stFailure        // 4xx, 5xx, 6xx
	stRetrans        // a retransmitted message: the whole row
	stSDP            // SDP summary notes
	stEvent          // hold, resume, transfer notes
	stError          // findings by severity
	stWarning
	stInfo
	stStream  // RTP stream rows
	stLeg0    // arrows of leg 1, 2, ... of a B2BUA call group
	numStyles = stLeg0 + numLegStyles
)

const numLegStyles = 6

// Theme is how a terminal ladder is coloured. It is built once from a
// lipgloss renderer, whose colour profile decides everything (NO_COLOR,
// --color, a terminal or not): a Theme from a renderer without colour draws
// plain text. Styles are kept as the escape sequences lipgloss produces
// around a text, so that colouring thousands of cells costs two string
// copies each, not a lipgloss Render.
type Theme struct {
	on    [numStyles]string
	off   [numStyles]string
	color bool
}

// NewTheme builds the ladder styles for r (nil: no colour).
func NewTheme(r *lipgloss.Renderer) *Theme {
	t := &Theme{}
	if r == nil {
		return t
	}
	s := r.NewStyle()
	legs := []string{"12", "13", "14", "10", "11", "208"}
	styles := [numStyles]lipgloss.Style{
		stPlain:    s,
		stDim:      s.Faint(true),
		stHeader:   s.Bold(true),
		stTitle:    s.Bold(true),
		stRequest:  s.Bold(true),
		stProv:     s.Foreground(lipgloss.Color("12")),
		stSuccess:  s.Foreground(lipgloss.Color("10")),
		stRedirect: s.Foreground(lipgloss.Color("14")),
		stFailure:  s.Foreground(lipgloss.Color("9")),
		stRetrans:  s.Faint(true),
		stSDP:      s.Foreground(lipgloss.Color("6")),
		stEvent:    s.Foreground(lipgloss.Color("5")),
		stError:    s.Foreground(lipgloss.Color("9")).Bold(true),
		stWarning:  s.Foreground(lipgloss.Color("11")),
		stInfo:     s.Foreground(lipgloss.Color("12")),
		stStream:   s.Foreground(lipgloss.Color("3")),
	}
	for i, c := range legs {
		styles[stLeg0+style(i)] = s.Foreground(lipgloss.Color(c))
	}
	const mark = "X"
	for i, st := range styles {
		out := st.Render(mark)
		if j := strings.Index(out, mark); j >= 0 && out != mark {
			t.on[i], t.off[i] = out[:j], out[j+len(mark):]
			t.color = true
		}
	}
	return t
}

// Color reports whether the theme draws colour at all.
func (t *Theme) Color() bool { return t != nil && t.color }

func legStyle(leg int) style { return stLeg0 + style(leg%numLegStyles) }

func classStyle(r *Row) style {
	if r.Kind == RowStream {
		return stStream
	}
	switch r.Class() {
	case 0:
		return stRequest
	case 1:
		return stProv
	case 2:
		return stSuccess
	case 3:
		return stRedirect
	}
	return stFailure
}

func severityStyle(sev string) style {
	switch sev {
	case "error":
		return stError
	case "warning":
		return stWarning
	}
	return stInfo
}
