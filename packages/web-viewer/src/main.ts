document.querySelector("#app")!.textContent = "DILEMMA viewer";
