() => [...document.querySelectorAll('[data-testid="stWidgetLabel"]')].flatMap(label => {
  if (!label.offsetParent) return [];  // hidden (collapsed expander, other tab)
  return [...label.querySelectorAll('p, div, span, label')]
    .filter(el => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
                  && getComputedStyle(el).overflow !== 'visible')
    .map(el => el.textContent.trim()).filter(t => t);
})
