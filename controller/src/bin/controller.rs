//! The same program under the name the reference's image, Deployment and Helm
//! chart run (`command: [controller]`), so swapping only the image works.

include!("../main.rs");
