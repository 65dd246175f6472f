// A plotly figure (its JSON, every string already plain text: figure_style.text_only) drawn by
// plotly.js's cartesian bundle, which the dashboard's server serves beside the pages
// (dashboard/chart.py): loaded once per tab, a third of the size of the plotly.js Streamlit loads.

let loading = null;  // the bundle's load, shared by every chart of the tab
const SHOWN = new WeakMap();  // a chart's element -> the figure (JSON) it shows or is about to

function plotly(src) {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      // beside the page, as the server sees it (a page's address is one level below the server's base)
      script.src = new URL(src, new URL('.', window.location.href)).href;
      script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error('no Plotly in the bundle')));
      script.onerror = () => { loading = null; reject(new Error(`${script.src} could not be loaded`)); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

// Plotly follows the window's width only: a column that narrows or widens (the sidebar opened or
// closed) redraws the chart at its new width too.
const RESIZER = new ResizeObserver(entries => {
  for (const { target } of entries) {
    // not while it is hidden or leaving the page (plotly refuses to size a div that is not displayed)
    if (target.dataset.drawn === '1' && window.Plotly && target.isConnected && target.clientWidth > 0) {
      window.Plotly.Plots.resize(target).catch(() => {});
    }
  }
});

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector('.cl-chart');
  RESIZER.observe(root);  // once per element: observing it again changes nothing
  // Streamlit calls this between two renders as well as when the chart leaves the page
  const cleanup = () => setTimeout(() => { if (!root.isConnected) RESIZER.unobserve(root); }, 0);
  if (SHOWN.get(root) === data.figure) return cleanup;  // a rerun with the same figure: nothing to redraw
  SHOWN.set(root, data.figure);
  delete root.dataset.drawn;
  root.style.minHeight = `${data.height}px`;  // the chart's room before the bundle arrives: no jump
  plotly(data.src)
    .then(Plotly => {
      if (SHOWN.get(root) !== data.figure) return null;  // a newer figure came meanwhile
      const figure = JSON.parse(data.figure);
      return Plotly.react(root, figure.data, figure.layout, { displaylogo: false, responsive: true });
    })
    .then(drawn => { if (drawn) root.dataset.drawn = '1'; })
    .catch(error => {
      root.textContent = `The chart could not be drawn (${error.message}).`;
      root.dataset.drawn = 'failed';
    });
  return cleanup;
}
