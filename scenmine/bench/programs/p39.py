# pedestrian inside a crosswalk (refav_parity program p39)
description = 'pedestrian inside a crosswalk'
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
peds_in_crosswalk = at_pedestrian_crossing(peds, log_dir, within_distance=0)
output_scenario(peds_in_crosswalk, description, log_dir, output_dir)
