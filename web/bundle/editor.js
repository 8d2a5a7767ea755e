// The page's code editor: CodeMirror 6 with C and GNU assembly highlighting, line numbers and the
// compiler's diagnostics at their line and column. `./dev build-web` bundles this file with esbuild
// (npm packages pinned in tests/web/package.json) into pkg/editor.js, which the page imports on
// first use. One EditorView; each file of the project is one EditorState, swapped in by its tab.
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput } from '@codemirror/language';
import { c } from '@codemirror/legacy-modes/mode/clike';
import { gas } from '@codemirror/legacy-modes/mode/gas';
import { setDiagnostics, lintGutter } from '@codemirror/lint';

const gasLanguage = StreamLanguage.define(gas);
const cLanguage = StreamLanguage.define(c);

/** The language for a file name: C (and headers) or GNU assembly (.s, .S), else none. */
function languageFor(name) {
  if (/\.(c|h)$/.test(name)) return [cLanguage];
  if (/\.(s|S)$/.test(name)) return [gasLanguage];
  return [];
}

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '12.5px', backgroundColor: '#fff' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
  '.cm-gutters': { backgroundColor: '#f6f7f9', borderRight: '1px solid #dde1e8' },
});

/**
 * Make an editor in `parent`. `onRun` is called on Ctrl+Enter (Cmd+Enter), `onChange(name, text)`
 * after every edit. Returns {open(name, text), text(name), files(), rename(from, to), remove(name),
 * setDiagnostics(byFile), view}.
 */
export function createEditor(parent, { onRun, onChange }) {
  const states = new Map();
  const diags = new Map(); // file → [{line, column, severity, message}]
  let current = null;
  const run = () => { onRun(); return true; };
  const extensions = (name) => [
    lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
    bracketMatching(), highlightActiveLine(), lintGutter(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    keymap.of([{ key: 'Mod-Enter', run, preventDefault: true }, indentWithTab, ...defaultKeymap, ...historyKeymap]),
    EditorView.updateListener.of((u) => { if (u.docChanged) onChange(name, u.state.doc.toString()); }),
    theme,
    ...languageFor(name),
  ];
  const view = new EditorView({ parent });

  /** Diagnostics of one file as CodeMirror ranges: from the column to the end of its token. */
  function ranges(state, list) {
    return list.map((d) => {
      const line = state.doc.line(Math.min(Math.max(d.line ?? 1, 1), state.doc.lines));
      let from = line.from + Math.min(Math.max((d.column ?? 1) - 1, 0), line.length);
      if (d.column == null) from = line.from;
      let to = from;
      const rest = line.text.slice(from - line.from);
      const tok = /^(\w+|\S)/.exec(rest);
      if (d.column != null && tok) to = from + tok[0].length;
      else if (d.column == null) to = line.to;
      return { from, to, severity: d.severity === 'note' ? 'info' : d.severity, message: d.message };
    });
  }

  function apply() {
    if (current) view.dispatch(setDiagnostics(view.state, ranges(view.state, diags.get(current) ?? [])));
  }

  return {
    view,
    open(name, text) {
      if (current) states.set(current, view.state);
      if (!states.has(name) || text !== undefined) {
        states.set(name, EditorState.create({ doc: text ?? '', extensions: extensions(name) }));
      }
      current = name;
      view.setState(states.get(name));
      apply();
    },
    current: () => current,
    has: (name) => states.has(name) || name === current,
    text(name) {
      if (name === current) return view.state.doc.toString();
      return states.get(name)?.doc.toString();
    },
    rename(from, to) {
      const text = this.text(from);
      states.delete(from);
      const wasCurrent = current === from;
      if (wasCurrent) current = null;
      states.set(to, EditorState.create({ doc: text, extensions: extensions(to) }));
      if (diags.has(from)) { diags.set(to, diags.get(from)); diags.delete(from); }
      if (wasCurrent) { current = to; view.setState(states.get(to)); apply(); }
    },
    remove(name) {
      states.delete(name);
      diags.delete(name);
      if (current === name) current = null;
    },
    clear() { states.clear(); diags.clear(); current = null; },
    setDiagnostics(byFile) {
      diags.clear();
      for (const [f, list] of Object.entries(byFile)) diags.set(f, list);
      apply();
    },
    focus() { view.focus(); },
    /** Put the cursor at a 1-based line and column of the open file, scrolled into view. */
    goto(line, column) {
      const l = view.state.doc.line(Math.min(Math.max(line, 1), view.state.doc.lines));
      const at = l.from + Math.min(Math.max((column ?? 1) - 1, 0), l.length);
      view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
      view.focus();
    },
  };
}
