() => [...document.querySelectorAll('.vega-embed')].map(embed => {
  const host = embed.closest('[class*="st-key-"]');
  const key = host ? [...host.classList].find(c => c.startsWith('st-key-')).slice(7) : null;
  const svg = embed.querySelector('svg');
  if (!svg) {  // Streamlit draws charts of > 2000 data rows on a canvas
    const canvas = embed.querySelector('canvas');
    return {key, renderer: 'canvas', chartH: canvas ? Math.round(canvas.getBoundingClientRect().height) : null};
  }
  const box = svg.getBoundingClientRect();
  const frame = svg.querySelector('g.mark-group.role-frame.root > g > path.background');
  const plot = frame && frame.getBoundingClientRect();
  const cells = svg.querySelector('g.mark-group.role-frame.root g.mark-rect.role-mark');
  const rects = cells ? [...cells.querySelectorAll(':scope > path')].map(p => p.getBoundingClientRect()) : [];
  const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => ({text: t.textContent, r: t.getBoundingClientRect()}));
  const over = r => Math.max(box.left - r.left, r.right - box.right, box.top - r.top, r.bottom - box.bottom);
  return {key, renderer: 'svg', chartW: Math.round(box.width), chartH: Math.round(box.height),
          plotW: plot && Math.round(plot.width), plotH: plot && Math.round(plot.height),
          rows: new Set(rects.map(r => Math.round(r.top))).size,
          rowMin: rects.length ? Math.min(...rects.map(r => r.height)) : null,
          cut: texts.filter(x => over(x.r) > 3).map(x => x.text),
          ellipsis: texts.filter(x => x.text.includes('…')).map(x => x.text),
          nan: texts.filter(x => /\bnan\b/i.test(x.text)).map(x => x.text)};
})
