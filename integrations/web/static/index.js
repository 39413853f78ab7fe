/* The sample page: the embed tag names the address this page was served from. */
(function () {
  "use strict";
  var code = document.getElementById("embed");
  if (code) code.textContent = '<script src="' + location.origin + '/static/widget.js" defer></script>';
})();
