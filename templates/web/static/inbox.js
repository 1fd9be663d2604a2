// The inbox refreshes its rows every second (htmx, hx-trigger on the table body). A refresh
// never replaces the rows while someone is choosing an outcome or pressing a button in
// them: the swap waits for the next poll after the focus leaves.
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  var focused = document.activeElement;
  if (target && focused && target.contains(focused) && focused !== document.body) {
    event.detail.shouldSwap = false;
  }
});
