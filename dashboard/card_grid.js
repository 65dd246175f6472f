// Image cards as one element: thumbnail, true label (and split), the chosen approach's answer or
// every approach's, named (✔/✘, class, confidence), tags, every answer on hover, and a Details button
// that tells Python which image to open. Built from ``analysis.present.gallery_cards.card``; every string is written as text
// (textContent, title), and a thumbnail is shown only when it is a data: URI of an image.

function badge(name, colour) {
  const node = document.createElement('span');
  node.className = 'cl-cards-badge';
  node.style.background = colour;
  node.textContent = name;
  return node;
}

function card(item, root) {
  const node = document.createElement('div');
  node.className = 'cl-cards-card';
  if (typeof item.thumb === 'string' && item.thumb.startsWith('data:image/')) {
    const image = document.createElement('img');
    image.src = item.thumb;
    image.alt = `image ${item.id}`;
    node.appendChild(image);
  } else {
    const none = document.createElement('span');
    none.textContent = 'no thumbnail';
    node.appendChild(none);
  }
  const lines = document.createElement('div');
  lines.className = 'cl-cards-lines';
  lines.title = item.title;
  lines.appendChild(badge(item.label, item.label_colour));
  if (item.split) lines.append(' · ' + item.split);
  for (const answer of item.answers) {
    lines.appendChild(document.createElement('br'));
    const mark = document.createElement('span');
    mark.className = answer.correct ? 'cl-cards-right' : 'cl-cards-wrong';
    mark.style.color = answer.mark_colour;
    mark.textContent = answer.mark + ' ';
    lines.append(mark, badge(answer.prediction, answer.colour), ' ' + answer.probability);
    if (answer.approach) {
      const name = document.createElement('span');
      name.className = 'cl-cards-approach';
      name.textContent = ' ' + answer.approach;
      lines.appendChild(name);
    }
  }
  if (item.tags) {
    lines.appendChild(document.createElement('br'));
    const tags = document.createElement('span');
    tags.className = 'cl-cards-tags';
    tags.textContent = item.tags;
    lines.appendChild(tags);
  }
  const details = document.createElement('button');
  details.type = 'button';
  details.className = 'cl-cards-details';
  details.textContent = 'Details';
  details.title = item.help;
  details.setAttribute('aria-label', `Details of image ${item.id}`);  // 48 buttons, each named for its image
  details.onclick = () => root.send('open', item.id);
  node.append(lines, details);
  return node;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector('.cl-cards');
  root.send = setTriggerValue;  // this render's, even when the cards stay as they are
  if (root.dataset.version === data.version) return;  // the same cards: nothing to redraw
  root.style.gridTemplateColumns = `repeat(${data.per_row}, minmax(0, 1fr))`;
  root.replaceChildren(...data.cards.map(item => card(item, root)));
  root.dataset.version = data.version;
}
