// A plotly figure (its JSON, every string already plain text: figure_style.text_only) drawn by
// plotly.js's cartesian bundle, which the dashboard's server serves beside the pages
// (dashboard/chart.py): loaded once per tab, a third of the size of the plotly.js Streamlit loads.

let loading = null;  // the bundle's load, shared by every chart of the tab
let PLOTLY = null;  // the bundle's plotly (window.Plotly may later be Streamlit's own, a WebGL figure's)
const SHOWN = new WeakMap();  // a chart's element -> the figure (JSON) it shows or is about to

function plotly(src) {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      // beside the page, as the server sees it (a page's address is one level below the server's base)
      script.src = new URL(src, new URL('.', window.location.href)).href;
      script.onload = () => {
        PLOTLY = window.Plotly;
        if (PLOTLY) resolve(PLOTLY); else reject(new Error('no Plotly in the bundle'));
      };
      script.onerror = () => { loading = null; reject(new Error(`${script.src} could not be loaded`)); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

// The chart follows its column's width (the window's, the sidebar opened or closed); not while it is
// hidden or leaving the page (plotly refuses to size a div that is not displayed).
const RESIZER = new ResizeObserver(entries => {
  for (const { target } of entries) {
    if (target.dataset.drawn === '1' && PLOTLY && target.isConnected && target.clientWidth > 0) {
      PLOTLY.Plots.resize(target).catch(() => {});
    }
  }
});

function forget(root) {
  RESIZER.unobserve(root);
  SHOWN.delete(root);
  if (PLOTLY) PLOTLY.purge(root);
}

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector('.cl-chart');
  RESIZER.observe(root);  // once per element: observing it again changes nothing
  // when the chart leaves the page, plotly lets go of it (its data, its listeners)
  const cleanup = () => setTimeout(() => { if (!root.isConnected) forget(root); }, 0);
  if (SHOWN.get(root) === data.figure) return cleanup;  // a rerun with the same figure: nothing to redraw
  SHOWN.set(root, data.figure);
  if (root.dataset.drawn === 'failed') root.textContent = '';  // the message of a draw that failed
  delete root.dataset.drawn;
  root.style.minHeight = `${data.height}px`;  // the chart's room before the bundle arrives: no jump
  plotly(data.src)
    .then(Plotly => {
      if (SHOWN.get(root) !== data.figure || !root.isConnected) return null;  // a newer figure, or gone
      const figure = JSON.parse(data.figure);
      return Plotly.react(root, figure.data, figure.layout, { displaylogo: false });
    })
    .then(drawn => { if (drawn && SHOWN.get(root) === data.figure) root.dataset.drawn = '1'; })
    .catch(error => {
      if (SHOWN.get(root) !== data.figure) return;
      SHOWN.delete(root);  // the next render tries again
      if (PLOTLY) PLOTLY.purge(root);
      root.textContent = `The chart could not be drawn (${error.message}).`;
      root.dataset.drawn = 'failed';
    });
  return cleanup;
}
